-- How an order's champion forecast moved, morning by morning, up to the as-of day.
with final as (
    select
        as_of_date,
        current_stage,
        p10_h,
        p50_h,
        p90_h,
        eta_p10_at,
        eta_p50_at,
        eta_p90_at,
        stuck_prob,
        forecaster_version
    from predictions
    where order_id = $order_id
        and role = 'champion'
        and as_of_date <= $as_of_date
)

select * from final
order by as_of_date
