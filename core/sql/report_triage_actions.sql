-- Every action taken on each listing of the week's lists, one row per (list morning, order), in the order
-- they were taken, with their notes. Only shown rows carry actions: held-out orders are never worked.
with week_actions as (
    select
        as_of_date,
        order_id,
        action,
        note,
        acted_at
    from triage_actions
    where as_of_date between $week_start and $week_end
),

final as (
    select
        as_of_date,
        order_id,
        string_agg(action, ', ' order by acted_at, action) as action_history,
        string_agg(note, ' | ' order by acted_at, action) as notes
    from week_actions
    group by as_of_date, order_id
)

select * from final
order by as_of_date, order_id
