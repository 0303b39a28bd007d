-- Every row of the triage lists up to $as_of_date with the instant it appeared (the instant its
-- morning's features were computed at; midnight of the day when no prediction is stored).
create or replace temp table acc_listings as
with list_instants as (
    select
        as_of_date,
        max(as_of_at) as listed_at
    from predictions
    where as_of_date <= $as_of_date
    group by as_of_date
),

listed as (
    select
        t.as_of_date,
        t.order_id,
        t.rank,
        t.held_out,
        t.stuck_prob,
        t.expected_cost,
        coalesce(i.listed_at, t.as_of_date::timestamp) as listed_at
    from triage_list as t
    left join list_instants as i on i.as_of_date = t.as_of_date
    where t.as_of_date <= $as_of_date
),

final as (
    select
        *,
        min(listed_at) over (partition by order_id) as first_listed_at,
        -- The arm of an order is the one it was first listed in (the holdout is drawn per order).
        arg_min(held_out, listed_at) over (partition by order_id) as first_held_out
    from listed
)

select * from final
