-- Long form: the latest value of every event attribute seen in each prefix (imported logs carry them
-- as JSON with arbitrary names; they are expanded generically and pivoted in Python).
with event_values as (
    select
        e.order_id,
        e.ordinal,
        k.key as attr_key,
        json_extract_string(e.attrs, k.key) as attr_value
    from feat_events as e
    cross join unnest(json_keys(e.attrs)) as k(key)
    where e.attrs is not null
),

final as (
    select
        p.order_id,
        p.prefix_len,
        v.attr_key,
        arg_max(v.attr_value, v.ordinal) as attr_value
    from (select distinct order_id, prefix_len from feat_prefixes) as p
    inner join event_values as v
        on v.order_id = p.order_id
        and v.ordinal <= p.prefix_len
    where v.attr_value is not null
    group by p.order_id, p.prefix_len, v.attr_key
)

select * from final
