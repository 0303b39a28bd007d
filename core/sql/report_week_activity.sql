-- What the store holds for one ISO week [$week_start, $week_end]: enough to tell an empty week from a quiet one.
with week_events as (
    select
        count(*)::bigint as events,
        count(distinct order_id)::bigint as orders_with_events,
        count(case when stage = $delivered_stage then 1 end)::bigint as deliveries
    from events
    where event_ts >= $week_start::timestamp
        and event_ts < $week_end::timestamp + interval 1 day
),

week_orders as (
    select count(*)::bigint as orders_placed
    from orders
    where placed_at >= $week_start::timestamp
        and placed_at < $week_end::timestamp + interval 1 day
),

week_lists as (
    select
        count(distinct as_of_date)::bigint as list_days,
        count(case when not held_out then 1 end)::bigint as listed_shown,
        count(case when held_out then 1 end)::bigint as listed_held_out
    from triage_list
    where as_of_date between $week_start and $week_end
),

store_span as (
    select
        (select max(event_ts) from events) as last_event_at,
        (select max(as_of_at) from predictions) as last_scored_at
),

final as (
    select
        e.events,
        e.orders_with_events,
        e.deliveries,
        o.orders_placed,
        l.list_days,
        l.listed_shown,
        l.listed_held_out,
        s.last_event_at,
        s.last_scored_at
    from week_events as e
    cross join week_orders as o
    cross join week_lists as l
    cross join store_span as s
)

select * from final
