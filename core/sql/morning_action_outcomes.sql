-- Actions taken on the lists of the mornings in [$since, $as_of_date), each with what its order did
-- after the list it was on was built (events in (end of the list's day, $until]), and whether the
-- order is on the as-of morning's shown list again.
with acted as (
    select
        a.order_id,
        a.as_of_date as list_date,
        arg_max(a.action, a.acted_at) as action,
        arg_max(a.actor, a.acted_at) as actor,
        max(a.acted_at) as acted_at
    from triage_actions as a
    where a.as_of_date >= $since
        and a.as_of_date < $as_of_date
    group by a.order_id, a.as_of_date
),

later as (
    select
        c.order_id,
        c.list_date,
        count(e.stage)::bigint as later_events,
        arg_max(e.stage, e.event_ts) as latest_stage,
        max(e.event_ts) as latest_event_at
    from acted as c
    left join events as e
        on e.order_id = c.order_id
        and e.event_ts >= c.list_date + interval 1 day
        and e.event_ts < $until
    group by c.order_id, c.list_date
),

again as (
    select order_id
    from triage_list
    where as_of_date = $as_of_date
        and not held_out
),

final as (
    select
        c.order_id,
        c.list_date,
        c.action,
        c.actor,
        c.acted_at,
        l.later_events,
        l.latest_stage,
        l.latest_event_at,
        g.order_id is not null as listed_again
    from acted as c
    inner join later as l on l.order_id = c.order_id and l.list_date = c.list_date
    left join again as g on g.order_id = c.order_id
)

select * from final
order by list_date desc, acted_at desc, order_id
