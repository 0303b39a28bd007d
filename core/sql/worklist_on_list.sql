-- Whether an order is on a morning's shown list (a held-out order counts as not listed).
with final as (
    select count(*)::bigint as listed
    from triage_list
    where as_of_date = $as_of_date
        and order_id = $order_id
        and not held_out
)

select * from final
