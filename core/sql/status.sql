with
order_counts as (
    select count(*)::bigint as orders from orders
),
event_counts as (
    select
        count(*)::bigint as events,
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at
    from events
),
journey_ends as (
    -- an order of the journey feed is closed once it has a terminal event
    select distinct order_id from events where stage in ('delivered', 'cancelled')
),
log_events as (
    -- an imported log has no terminal stages: its cases end with its own "end activities"
    select
        order_id,
        stage,
        row_number() over (partition by order_id order by event_ts desc, event_id desc) = 1 as is_last
    from events
    where source like 'log:%'
),
end_activities as (
    -- an activity that is the last event of its case nearly every time it occurs (Closed, Payment Handled)
    select stage
    from log_events
    group by stage
    having count(*) filter (where is_last) >= 0.9 * count(*)
),
log_ends as (
    select order_id
    from log_events
    where is_last and stage in (select stage from end_activities)
),
open_counts as (
    select count(*)::bigint as open_orders
    from orders
    where order_id not in (select order_id from journey_ends)
        and order_id not in (select order_id from log_ends)
),
quarantine_counts as (
    select count(*)::bigint as quarantined_rows from quarantine
),
final as (
    select * from order_counts, event_counts, open_counts, quarantine_counts
)
select * from final
