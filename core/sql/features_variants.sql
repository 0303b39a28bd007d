-- The full visible activity sequence (variant) of every order with a prefix: used only to find
-- attributes computed from the whole case (a "variant" label), which leak the future.
with wanted as (
    select distinct order_id from feat_prefixes
),

final as (
    select
        e.order_id,
        md5(string_agg(e.stage, '|' order by e.ordinal)) as variant
    from feat_events as e
    inner join wanted as w on w.order_id = e.order_id
    group by e.order_id
)

select * from final
