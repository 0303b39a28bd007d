-- The dashboard's activity log, newest first, optionally of one action.
with
activity as (
    select * from activity_log
    where $action::varchar is null or action = $action::varchar
),

final as (
    select
        activity_id,
        acted_at,
        actor,
        action,
        subject,
        detail
    from activity
)

select * from final
order by acted_at desc, activity_id desc
limit $limit
