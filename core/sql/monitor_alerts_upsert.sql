-- A re-run of a day updates its alerts in place; the status someone set (acknowledged) is kept.
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
    updated_at
)
values ($alert_id, $as_of, $rule, $severity, $subject, $message, $status, $value, $threshold, $at, $at)
on conflict (alert_id) do update set
    severity = excluded.severity,
    message = excluded.message,
    value = excluded.value,
    threshold = excluded.threshold,
    updated_at = excluded.updated_at
