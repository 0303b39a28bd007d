-- The orders that one ingest run loaded (the contract's rows, not the quarantined ones), for the lake.
select
    order_id,
    placed_at,
    channel,
    region,
    customer_tier,
    category,
    order_value,
    items,
    payment_method,
    ship_mode,
    warehouse,
    carrier,
    promised_at,
    attrs::varchar as attrs,
    source,
    loaded_at
from orders
where source in (select unnest($sources))
    and loaded_at >= $since
order by order_id
