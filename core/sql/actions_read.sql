-- The actions taken on an order (every list day up to the as-of day), newest first.
with final as (
    select
        acted_at,
        as_of_date,
        action,
        note,
        actor,
        action_id
    from triage_actions
    where order_id = $order_id
        and as_of_date <= $as_of_date
)

select * from final
order by acted_at desc, action_id
