-- One morning's shown list with its filters: held-out rows never leave the store.
with order_attrs as (
    select
        order_id,
        any_value(channel) as channel,
        any_value(region) as region,
        any_value(carrier) as carrier,
        any_value(order_value) as order_value
    from orders
    group by order_id
),

stages as (
    select
        order_id,
        current_stage
    from predictions
    where as_of_date = $as_of_date
        and role = 'champion'
),

last_actions as (
    select
        order_id,
        arg_max(action, acted_at) as last_action,
        arg_max(actor, acted_at) as last_action_by,
        max(acted_at) as last_action_at,
        count(*)::bigint as actions
    from triage_actions
    where as_of_date = $as_of_date
    group by order_id
),

listed as (
    select
        t.rank,
        t.order_id,
        t.expected_cost,
        t.stuck_prob,
        s.current_stage as stage,
        o.carrier,
        o.region,
        o.channel,
        o.order_value,
        t.eta_p10_at,
        t.eta_p50_at,
        t.eta_p90_at,
        t.reasons::varchar as reasons,
        a.last_action,
        a.last_action_by,
        a.last_action_at,
        coalesce(a.actions, 0)::bigint as actions
    from triage_list as t
    left join stages as s on s.order_id = t.order_id
    left join order_attrs as o on o.order_id = t.order_id
    left join last_actions as a on a.order_id = t.order_id
    where t.as_of_date = $as_of_date
        and not t.held_out
),

final as (
    select *
    from listed
    where (len($stages::varchar[]) = 0 or list_contains($stages::varchar[], stage))
        and (len($carriers::varchar[]) = 0 or list_contains($carriers::varchar[], carrier))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], region))
        and (len($channels::varchar[]) = 0 or list_contains($channels::varchar[], channel))
        and ($min_value::double is null or order_value >= $min_value::double)
        and ($max_value::double is null or order_value <= $max_value::double)
)

select * from final
order by expected_cost desc, rank, order_id
