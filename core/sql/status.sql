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
terminal as (
    -- an order is closed once it has a terminal event; imported logs have none, so a case counts as open
    select distinct order_id from events where stage in ('delivered', 'cancelled')
),
open_counts as (
    select count(*)::bigint as open_orders
    from orders
    where order_id not in (select order_id from terminal)
),
quarantine_counts as (
    select count(*)::bigint as quarantined_rows from quarantine
),
final as (
    select * from order_counts, event_counts, open_counts, quarantine_counts
)
select * from final
