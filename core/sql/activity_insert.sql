insert into activity_log (activity_id, acted_at, actor, action, subject, detail)
values ($activity_id, $acted_at, $actor, $action, $subject, $detail)
