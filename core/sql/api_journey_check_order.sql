-- A posted journey's order as a batch of one row for the ingestion's own row checks
-- (ingest_check_orders.sql).
insert into ingest_batch by name
select
    0 as file_index,
    1::bigint as row_number,
    $order_id::varchar as order_id,
    $placed_at::timestamp as placed_at,
    false as placed_at_bad,
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
    false as promised_at_bad
