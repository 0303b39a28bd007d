-- One field of a new revision.
insert into assumptions_history (kind, revision, name, value, actor, reason, saved_at)
values ($kind, $revision, $name, $value, $actor, $reason, $saved_at)
