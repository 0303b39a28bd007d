-- The mornings a shadowed forecaster version and the champion both scored the same open orders:
-- one row per (morning, order) with both models' own p50 and what had happened to the order by $as_of.
with shadow as (
    select as_of_date, as_of_at, order_id, coalesce(model_p50_h, p50_h) as p50_h
    from predictions
    where role = 'challenger'
        and forecaster_version = $challenger
        and as_of_at <= $as_of
),

served as (
    select as_of_date, order_id, coalesce(model_p50_h, p50_h) as p50_h
    from predictions
    where role = 'champion'
        and forecaster_version = $champion
        and as_of_at <= $as_of
),

ends as (
    select
        order_id,
        min(case when stage = $delivered_stage then event_ts end) as delivered_at,
        min(case when stage = $cancelled_stage then event_ts end) as cancelled_at
    from events
    where event_ts <= $as_of
        and stage in ($delivered_stage, $cancelled_stage)
        and order_id in (select order_id from shadow)
    group by order_id
),

final as (
    select
        s.as_of_date,
        s.as_of_at,
        s.order_id,
        s.p50_h as challenger_p50_h,
        c.p50_h as champion_p50_h,
        e.delivered_at,
        e.cancelled_at,
        o.carrier,
        o.region,
        o.channel,
        o.ship_mode,
        o.customer_tier
    from shadow as s
    inner join served as c on c.as_of_date = s.as_of_date and c.order_id = s.order_id
    left join ends as e on e.order_id = s.order_id
    left join orders as o on o.order_id = s.order_id
)

select * from final
order by as_of_date, order_id
