-- The shown lists (held-out rows aside) of every morning up to the as-of day, for the orders on
-- the as-of morning's shown list: where each of them stood on the earlier mornings.
with today_list as (
    select order_id
    from triage_list
    where as_of_date = $as_of_date
        and not held_out
),

final as (
    select
        t.as_of_date,
        t.order_id
    from triage_list as t
    inner join today_list as d on d.order_id = t.order_id
    where t.as_of_date <= $as_of_date
        and not t.held_out
)

select * from final
order by order_id, as_of_date
