-- An order's journey up to the end of the as-of day: each event and how long the order stayed after it.
with journey as (
    select
        event_ts as event_at,
        stage,
        event_id
    from events
    where order_id = $order_id
        and event_ts < $until
),

final as (
    select
        event_at,
        stage,
        date_diff('second', event_at, coalesce(lead(event_at) over (order by event_at, event_id), $until)) / 3600.0
            as hours_in_stage_h,
        lead(event_at) over (order by event_at, event_id) is null as is_current
    from journey
)

select * from final
order by event_at
