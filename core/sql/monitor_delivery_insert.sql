insert into alert_deliveries (
    delivered_at,
    target,
    alert_ids,
    ok,
    attempts,
    status_code,
    error
)
values ($at, $target, $alert_ids::varchar[], $ok, $attempts, $status_code, $error)
