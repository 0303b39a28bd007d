-- One morning's at-risk list (default: the latest), held-out orders excluded, optionally filtered.
with wanted_day as (
    select coalesce($as_of_date::date, (select max(as_of_date) from triage_list)) as as_of_date
),

order_attrs as (
    select
        order_id,
        any_value(warehouse) as warehouse,
        any_value(carrier) as carrier,
        any_value(region) as region
    from orders
    group by order_id
),

listed as (
    select
        t.as_of_date,
        t.rank,
        t.order_id,
        t.expected_cost,
        t.stuck_prob,
        t.reasons::varchar as reasons,
        t.eta_p10_at,
        t.eta_p50_at,
        t.eta_p90_at,
        o.warehouse,
        o.carrier,
        o.region
    from triage_list as t
    inner join wanted_day as d on d.as_of_date = t.as_of_date
    left join order_attrs as o on o.order_id = t.order_id
    where not t.held_out
        and t.stuck_prob >= $min_stuck_prob
        and ($warehouse::varchar is null or o.warehouse = $warehouse)
        and ($carrier::varchar is null or o.carrier = $carrier)
        and ($region::varchar is null or o.region = $region)
),

final as (
    select *
    from listed
    order by rank, order_id
    limit $limit
)

select * from final
order by rank, order_id
