-- Long form: the case attributes (orders.attrs JSON) of every order that has a prefix.
with wanted as (
    select distinct order_id from feat_prefixes
),

final as (
    select
        o.order_id,
        k.key as attr_key,
        json_extract_string(o.attrs, k.key) as attr_value
    from orders as o
    inner join wanted as w on w.order_id = o.order_id
    cross join unnest(json_keys(o.attrs)) as k(key)
    where o.attrs is not null
)

select * from final
where attr_value is not null
