-- The orders of the store for the lake (one folder; the event history is what grows).
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
order by order_id
