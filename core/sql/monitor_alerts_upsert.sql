-- The alert items as the evaluations give them: new items are inserted open, known ones updated in
-- place (latest message and value, last seen, days open, resolved) keeping the status someone set.
insert into alerts (
    alert_id,
    as_of,
    rule,
    severity,
    subject,
    message,
    status,
    value,
    threshold,
    created_at,
    updated_at,
    last_seen_on,
    days_open,
    resolved_on
)
select
    alert_id,
    as_of::date,
    rule,
    severity,
    subject,
    message,
    'open',
    value,
    threshold,
    $at,
    $at,
    last_seen_on::date,
    days_open,
    resolved_on::date
from episode_rows
on conflict (alert_id) do update set
    severity = excluded.severity,
    message = excluded.message,
    value = excluded.value,
    threshold = excluded.threshold,
    last_seen_on = excluded.last_seen_on,
    days_open = excluded.days_open,
    resolved_on = excluded.resolved_on,
    updated_at = excluded.updated_at
