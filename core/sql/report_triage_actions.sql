-- What triage did about each listing of the week's lists, one row per (list morning, order); actions in
-- the order they were taken. Only shown rows can carry actions: held-out orders are never worked.
with week_actions as (
    select
        as_of_date,
        order_id,
        action,
        note,
        actor,
        acted_at
    from triage_actions
    where as_of_date between $week_start and $week_end
),

final as (
    select
        as_of_date,
        order_id,
        count(*)::bigint as actions_taken,
        string_agg(action, ', ' order by acted_at, action) as actions,
        string_agg(note, ' | ' order by acted_at, action) as notes,
        string_agg(distinct actor, ', ' order by actor) as actors,
        min(acted_at) as first_acted_at,
        max(acted_at) as last_acted_at
    from week_actions
    group by as_of_date, order_id
)

select * from final
order by as_of_date, order_id
