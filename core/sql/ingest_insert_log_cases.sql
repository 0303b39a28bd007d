-- A case of an imported log is an order: placed when its first event happened, its case attributes in attrs.
insert into orders by name
with
new_events as (
    select
        order_id,
        min(event_ts) as placed_at
    from ingest_checked
    where reason is null and not is_duplicate
    group by order_id
),
final as (
    select
        n.order_id,
        n.placed_at,
        c.attrs::json as attrs,
        $source as source,
        $loaded_at as loaded_at
    from new_events as n
    left join ingest_case_attrs as c on c.case_id = n.order_id
    where n.order_id not in (select order_id from orders)
)
select * from final
