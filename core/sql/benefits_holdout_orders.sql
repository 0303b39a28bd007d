-- Every order that was ever on a would-be list, in the arm it was first listed in (held out or
-- shown), with its outcomes after that instant by $as_of: got stuck, contacts, SLA breach (delivered
-- after the promise, or still open past it; cancelled orders have none) and hours past the promise.
-- Needs acc_listings and acc_breaches.
with listed as (
    select
        order_id,
        min(listed_at) as first_listed_at,
        arg_min(held_out, listed_at) as held_out
    from acc_listings
    group by order_id
),

stuck_after as (
    select
        l.order_id,
        min(b.breach_at) as stuck_at
    from listed as l
    inner join acc_breaches as b
        on b.order_id = l.order_id
        and b.breach_at > l.first_listed_at
    group by l.order_id
),

contacts_after as (
    select
        l.order_id,
        count(*)::bigint as contacts
    from listed as l
    inner join contacts as c
        on c.order_id = l.order_id
        and c.contact_at > l.first_listed_at
        and c.contact_at <= $as_of
    group by l.order_id
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
        l.order_id,
        date_trunc('week', l.first_listed_at)::date as week_start,
        l.first_listed_at,
        l.held_out,
        s.stuck_at,
        case when s.stuck_at is not null then 1.0 else 0.0 end as stuck,
        coalesce(c.contacts, 0)::double as contacts,
        o.promised_at,
        e.delivered_at,
        case
            when o.promised_at is null or (e.cancelled_at is not null and e.delivered_at is null) then null
            when e.delivered_at is not null then case when e.delivered_at > o.promised_at then 1.0 else 0.0 end
            when o.promised_at < $as_of then 1.0
            else 0.0
        end as sla_breach,
        case
            when o.promised_at is null or (e.cancelled_at is not null and e.delivered_at is null) then null
            else greatest(date_diff('second', o.promised_at, coalesce(e.delivered_at, $as_of::timestamp)), 0) / 3600.0
        end as late_h
    from listed as l
    left join stuck_after as s on s.order_id = l.order_id
    left join contacts_after as c on c.order_id = l.order_id
    left join ends as e on e.order_id = l.order_id
    left join orders as o on o.order_id = l.order_id
)

select * from final
order by order_id
