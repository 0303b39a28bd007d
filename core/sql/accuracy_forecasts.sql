-- Every stored forecast of one model role made by $as_of (and on or after $since), with what had
-- happened to its order by $as_of: delivery, cancellation, and the order's segments.
with forecasts as (
    select
        as_of_date,
        as_of_at,
        order_id,
        forecaster_version,
        current_stage,
        p10_h,
        p50_h,
        p90_h,
        stuck_prob
    from predictions
    where role = $role
        and as_of_at <= $as_of
        and ($since::date is null or as_of_date >= $since::date)
),

ends as (
    select
        order_id,
        min(case when stage = $delivered_stage then event_ts end) as delivered_at,
        min(case when stage = $cancelled_stage then event_ts end) as cancelled_at
    from events
    where event_ts <= $as_of
        and stage in ($delivered_stage, $cancelled_stage)
    group by order_id
),

final as (
    select
        f.as_of_date,
        f.as_of_at,
        f.order_id,
        f.forecaster_version,
        f.current_stage,
        f.p10_h,
        f.p50_h,
        f.p90_h,
        f.stuck_prob,
        e.delivered_at,
        e.cancelled_at,
        o.carrier,
        o.region,
        o.channel,
        o.ship_mode,
        o.customer_tier,
        o.promised_at
    from forecasts as f
    left join ends as e on e.order_id = f.order_id
    left join orders as o on o.order_id = f.order_id
)

select * from final
order by as_of_date, order_id
