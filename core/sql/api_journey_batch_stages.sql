-- The activities the batch frame would have count columns for: every stage in the prefixes of all
-- orders open at the instant (the posted journey among them), with how often it occurs.
with final as (
    select
        e.stage,
        count(*)::bigint as events
    from feat_prefixes as p
    inner join feat_events as e
        on e.order_id = p.order_id
        and e.ordinal <= p.prefix_len
    group by e.stage
)

select * from final
order by stage
