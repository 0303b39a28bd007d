-- Activity per ISO week (weeks start on Monday) up to $as_of: orders placed, contacts received,
-- deliveries and SLA breaches (delivered after the promised date), days the first promise shown lay
-- after the delivery, and orders that got stuck (first stall breach) with those on a shown list
-- before it (caught early) and the hours between. Needs acc_breaches and acc_listings.
with placed as (
    select
        date_trunc('week', placed_at) as week_start,
        count(*)::bigint as orders
    from orders
    where placed_at <= $as_of
    group by 1
),

contacted as (
    select
        date_trunc('week', contact_at) as week_start,
        count(*)::bigint as contacts
    from contacts
    where contact_at <= $as_of
    group by 1
),

delivered as (
    select
        order_id,
        min(event_ts) as delivered_at
    from events
    where stage = $delivered_stage
        and event_ts <= $as_of
    group by order_id
),

first_promise as (
    select
        order_id,
        arg_min(eta_at, shown_from) as first_eta_at
    from eta_shown
    group by order_id
),

deliveries as (
    select
        date_trunc('week', d.delivered_at) as week_start,
        count(*)::bigint as deliveries,
        count(o.promised_at)::bigint as deliveries_with_sla,
        count(*) filter (where d.delivered_at > o.promised_at)::bigint as sla_breaches,
        count(coalesce(p.first_eta_at, o.promised_at))::bigint as deliveries_with_promise,
        coalesce(sum(
            greatest(date_diff('second', d.delivered_at, coalesce(p.first_eta_at, o.promised_at)), 0) / 86400.0
        ), 0.0) as extra_promised_days_total
    from delivered as d
    left join orders as o on o.order_id = d.order_id
    left join first_promise as p on p.order_id = d.order_id
    group by 1
),

first_stuck as (
    select
        order_id,
        min(breach_at) as stuck_at
    from acc_breaches
    group by order_id
),

first_shown as (
    select
        order_id,
        min(listed_at) as first_shown_at
    from acc_listings
    where not held_out
    group by order_id
),

stuck as (
    select
        date_trunc('week', s.stuck_at) as week_start,
        count(*)::bigint as stuck_orders,
        count(*) filter (where f.first_shown_at < s.stuck_at)::bigint as stuck_caught_early,
        coalesce(sum(
            case when f.first_shown_at < s.stuck_at then date_diff('second', f.first_shown_at, s.stuck_at) / 3600.0 end
        ), 0.0) as lead_time_total_h
    from first_stuck as s
    left join first_shown as f on f.order_id = s.order_id
    group by 1
),

weeks as (
    select week_start from placed
    union
    select week_start from contacted
    union
    select week_start from deliveries
    union
    select week_start from stuck
),

final as (
    select
        w.week_start::date as week_start,
        coalesce(p.orders, 0)::bigint as orders,
        coalesce(c.contacts, 0)::bigint as contacts,
        coalesce(d.deliveries, 0)::bigint as deliveries,
        coalesce(d.deliveries_with_sla, 0)::bigint as deliveries_with_sla,
        coalesce(d.sla_breaches, 0)::bigint as sla_breaches,
        coalesce(d.deliveries_with_promise, 0)::bigint as deliveries_with_promise,
        coalesce(d.extra_promised_days_total, 0.0) as extra_promised_days_total,
        coalesce(s.stuck_orders, 0)::bigint as stuck_orders,
        coalesce(s.stuck_caught_early, 0)::bigint as stuck_caught_early,
        coalesce(s.lead_time_total_h, 0.0) as lead_time_total_h
    from weeks as w
    left join placed as p on p.week_start = w.week_start
    left join contacted as c on c.week_start = w.week_start
    left join deliveries as d on d.week_start = w.week_start
    left join stuck as s on s.week_start = w.week_start
)

select * from final
order by week_start
