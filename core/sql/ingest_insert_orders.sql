insert into orders
with
final as (
    select
        b.order_id,
        b.placed_at,
        b.channel,
        b.region,
        b.customer_tier,
        b.category,
        b.order_value,
        b.items,
        b.payment_method,
        b.ship_mode,
        b.warehouse,
        b.carrier,
        b.promised_at,
        null::json as attrs,
        $sources[b.file_index + 1] as source,
        $loaded_at as loaded_at
    from ingest_batch as b
    anti join ingest_checked as c on c.file_index = b.file_index and c.row_number = b.row_number
)
select * from final
