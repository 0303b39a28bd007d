-- Each listing (morning x order) with its outcome by $as_of: the first stall breach after it was
-- listed, whether the order had ended (delivered or cancelled), and the order's segments.
-- Needs acc_listings and acc_breaches.
with ends as (
    select
        order_id,
        min(event_ts) as ended_at
    from events
    where event_ts <= $as_of
        and list_contains($terminal_stages, stage)
    group by order_id
),

after_listing as (
    select
        l.as_of_date,
        l.order_id,
        min(b.breach_at) as stuck_at
    from acc_listings as l
    inner join acc_breaches as b
        on b.order_id = l.order_id
        and b.breach_at > l.listed_at
    group by l.as_of_date, l.order_id
),

final as (
    select
        l.as_of_date,
        l.order_id,
        l.rank,
        l.held_out,
        l.stuck_prob,
        l.expected_cost,
        l.listed_at,
        l.first_listed_at,
        a.stuck_at,
        e.ended_at,
        o.carrier,
        o.region,
        o.channel,
        o.ship_mode,
        o.customer_tier
    from acc_listings as l
    left join after_listing as a on a.as_of_date = l.as_of_date and a.order_id = l.order_id
    left join ends as e on e.order_id = l.order_id
    left join orders as o on o.order_id = l.order_id
)

select * from final
order by as_of_date, rank
