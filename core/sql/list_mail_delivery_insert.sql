insert into list_mail_deliveries (
    delivered_at,
    as_of_date,
    trigger,
    recipients,
    refused,
    orders,
    ok,
    attempts,
    error
)
values ($at, $as_of_date, $trigger, $recipients, $refused, $orders, $ok, $attempts, $error)
