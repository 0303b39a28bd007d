-- Alert items: `status` reads resolved once a run no longer raised it (the status someone set stays stored).
with items as (
    select
        alert_id,
        as_of,
        rule,
        severity,
        subject,
        message,
        case when resolved_on is not null then 'resolved' else status end as status,
        value,
        threshold,
        last_seen_on,
        days_open,
        resolved_on,
        created_at,
        updated_at
    from alerts
),

final as (
    select *
    from items
    where ($since::date is null or coalesce(last_seen_on, as_of) >= $since::date)
        and ($status::varchar is null or status = $status::varchar)
)

select * from final
order by
    as_of desc,
    case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
    rule,
    subject
