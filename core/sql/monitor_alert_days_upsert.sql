-- One rule's finding on one run day; a re-evaluation of the day replaces it.
insert into alert_days (
    as_of,
    rule,
    subject,
    severity,
    message,
    value,
    threshold
)
values ($as_of, $rule, $subject, $severity, $message, $value, $threshold)
on conflict (as_of, rule, subject) do update set
    severity = excluded.severity,
    message = excluded.message,
    value = excluded.value,
    threshold = excluded.threshold
