-- The store's orders with the posted order's attributes in place of any stored row of it.
create or replace temp table api_orders as
with stored as (
    select *
    from orders
    where order_id <> $order_id
),

posted as (
    select
        $order_id::varchar as order_id,
        $placed_at::timestamp as placed_at,
        $channel::varchar as channel,
        $region::varchar as region,
        $customer_tier::varchar as customer_tier,
        $category::varchar as category,
        $order_value::double as order_value,
        $items::integer as items,
        $payment_method::varchar as payment_method,
        $ship_mode::varchar as ship_mode,
        $warehouse::varchar as warehouse,
        $carrier::varchar as carrier,
        $promised_at::timestamp as promised_at,
        $attrs::json as attrs,
        'api' as source,
        $now::timestamp as loaded_at
),

final as (
    select * from stored
    union all by name
    select * from posted
)

select * from final
