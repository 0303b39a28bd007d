-- Long form: how many times each activity happened in each prefix (pivoted to columns in Python).
with final as (
    select
        p.order_id,
        p.prefix_len,
        e.stage,
        count(*)::integer as events
    from (select distinct order_id, prefix_len from feat_prefixes) as p
    inner join feat_events as e
        on e.order_id = p.order_id
        and e.ordinal <= p.prefix_len
    group by p.order_id, p.prefix_len, e.stage
)

select * from final
