-- The serving champion's realised accuracy over recent mornings: forecasts of orders delivered by the as-of end.
with delivered as (
    select
        order_id,
        min(event_ts) as delivered_at
    from events
    where stage = 'delivered'
        and event_ts < $as_of_at
    group by order_id
),

matured as (
    select
        p.order_id,
        p.p10_h,
        p.p50_h,
        p.p90_h,
        date_diff('second', p.as_of_at, d.delivered_at) / 3600.0 as actual_h
    from predictions as p
    inner join delivered as d on d.order_id = p.order_id
    where p.role = 'champion'
        and p.as_of_date > $as_of_date::date - $window_days::integer
        and p.as_of_date <= $as_of_date
        and p.p50_h is not null
        and d.delivered_at >= p.as_of_at
),

final as (
    select
        count(*)::bigint as matured_forecasts,
        avg(abs(actual_h - p50_h)) as mae_h,
        100.0 * avg(case when actual_h between p10_h and p90_h then 1.0 else 0.0 end) as coverage_pct
    from matured
)

select * from final
