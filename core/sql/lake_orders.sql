-- The orders for the lake: the whole store ($whole), or the rows one ingest run loaded (files named
-- $sources, loaded at or after $since: the contract's rows, never the quarantined ones).
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
where $whole or (source in (select unnest($sources)) and loaded_at >= $since)
order by order_id
