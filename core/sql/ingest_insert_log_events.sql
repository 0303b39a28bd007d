insert into events
with
final as (
    select
        event_id,
        order_id,
        stage,
        event_ts,
        attrs::json as attrs,
        $source as source,
        $loaded_at as loaded_at
    from ingest_checked
    where reason is null and not is_duplicate
)
select * from final
