-- The static promise each order placed in [$from_date, $to_date] was shown at checkout.
insert into eta_shown
with placed as (
    select
        order_id,
        placed_at::date as shown_from,
        promised_at as eta_at
    from orders
    where placed_at::date between $from_date and $to_date
      and promised_at is not null
),

final as (
    select
        order_id,
        shown_from,
        eta_at,
        'static' as source,
        null::varchar as version
    from placed
)

select * from final
