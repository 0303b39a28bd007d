with final as (
    select
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
    from alerts
    where ($since::date is null or as_of >= $since::date)
        and ($status::varchar is null or status = $status::varchar)
)
select * from final
order by
    as_of desc,
    case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
    rule,
    subject
