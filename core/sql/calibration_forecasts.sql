-- The raw forecasts one forecaster version served (as champion or in shadow) on the mornings from
-- $since up to (not including) the one scored at $as_of, with the bounds as served (calibrated) and
-- what had happened to each order by $as_of: the daily calibration's input.
with forecasts as (
    select
        as_of_date,
        as_of_at,
        order_id,
        current_stage,
        coalesce(model_p10_h, p10_h) as p10_h,
        coalesce(model_p50_h, p50_h) as p50_h,
        coalesce(model_p90_h, p90_h) as p90_h,
        p10_h as served_p10_h,
        p90_h as served_p90_h
    from predictions
    where forecaster_version = $version
        and as_of_date >= $since
        and as_of_at < $as_of  -- earlier mornings only: a re-run of a day sees what its first run saw
    qualify row_number() over (partition by as_of_date, order_id order by role) = 1
),

ends as (
    select
        order_id,
        min(case when stage = $delivered_stage then event_ts end) as delivered_at,
        min(case when stage = $cancelled_stage then event_ts end) as cancelled_at
    from events
    where event_ts <= $as_of
        and stage in ($delivered_stage, $cancelled_stage)
        and order_id in (select order_id from forecasts)
    group by order_id
),

final as (
    select
        f.as_of_date,
        f.as_of_at,
        f.order_id,
        f.current_stage,
        f.p10_h,
        f.p50_h,
        f.p90_h,
        f.served_p10_h,
        f.served_p90_h,
        e.delivered_at,
        e.cancelled_at,
        o.carrier,
        o.warehouse
    from forecasts as f
    left join ends as e on e.order_id = f.order_id
    left join orders as o on o.order_id = f.order_id
)

select * from final
order by as_of_date, order_id
