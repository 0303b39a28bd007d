-- One order as of a day: its attributes, the ETA the customer sees and the latest forecast interval.
with the_order as (
    select
        order_id,
        any_value(placed_at) as placed_at,
        any_value(channel) as channel,
        any_value(region) as region,
        any_value(customer_tier) as customer_tier,
        any_value(order_value) as order_value,
        any_value(ship_mode) as ship_mode,
        any_value(warehouse) as warehouse,
        any_value(carrier) as carrier,
        any_value(promised_at) as promised_at
    from orders
    where order_id = $order_id
    group by order_id
),

shown as (
    select
        arg_max(eta_at, shown_from) as eta_shown_at,
        arg_max(source, shown_from) as eta_source,
        max(shown_from) as eta_shown_from
    from eta_shown
    where order_id = $order_id
        and shown_from <= $as_of_date
),

latest_forecast as (
    select
        arg_max(as_of_date, as_of_date) as forecast_date,
        arg_max(eta_p10_at, as_of_date) as eta_p10_at,
        arg_max(eta_p50_at, as_of_date) as eta_p50_at,
        arg_max(eta_p90_at, as_of_date) as eta_p90_at,
        arg_max(stuck_prob, as_of_date) as stuck_prob
    from predictions
    where order_id = $order_id
        and role = 'champion'
        and as_of_date <= $as_of_date
),

final as (
    select *
    from the_order, shown, latest_forecast
)

select * from final
