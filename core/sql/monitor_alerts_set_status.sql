update alerts
set
    status = $status,
    updated_at = $at
where alert_id = $alert_id
returning alert_id
