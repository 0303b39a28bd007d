-- The morning's figures for the as-of day and the day before it (for "since yesterday").
with days as (
    select $as_of_date::date as as_of_date
    union all
    select $as_of_date::date - 1
),

summary as (
    select
        as_of_date,
        forecaster_version,
        classifier_version,
        eta_source
    from daily_summary
),

order_spans as (
    select
        order_id,
        min(event_ts) as first_event_at,
        min(event_ts) filter (where stage in ('delivered', 'cancelled')) as ended_at
    from events
    group by order_id
),

open_counts as (
    -- counted from the events, not the daily summary: an order is open from its first event to its end
    select
        d.as_of_date,
        count(*) filter (
            where o.first_event_at < (d.as_of_date + 1)::timestamp
                and (o.ended_at is null or o.ended_at >= (d.as_of_date + 1)::timestamp)
        )::bigint as open_orders
    from days as d
    cross join order_spans as o
    group by d.as_of_date
),

listed as (
    select
        as_of_date,
        count(*) filter (where not held_out)::bigint as on_list,
        count(*) filter (where held_out)::bigint as held_out,
        coalesce(sum(expected_cost) filter (where not held_out), 0)::double as list_expected_cost
    from triage_list
    group by as_of_date
),

raised as (
    -- alert items opened that day (a condition still holding since an earlier day is not raised again)
    select
        as_of as as_of_date,
        count(*)::bigint as alerts_raised,
        count(*) filter (where severity = 'critical')::bigint as critical_raised
    from alerts
    group by as_of
),

still_open as (
    select
        d.as_of_date,
        count(a.alert_id)::bigint as alerts_open
    from days as d
    left join alerts as a
        on a.as_of <= d.as_of_date
        and (a.resolved_on is null or a.resolved_on > d.as_of_date)
        and a.status = 'open'
    group by d.as_of_date
),

acted as (
    select
        as_of_date,
        count(*)::bigint as actions
    from triage_actions
    group by as_of_date
),

final as (
    select
        d.as_of_date,
        s.as_of_date is not null as has_run,
        coalesce(n.open_orders, 0)::bigint as open_orders,
        coalesce(l.on_list, 0)::bigint as on_list,
        coalesce(l.held_out, 0)::bigint as held_out,
        coalesce(l.list_expected_cost, 0)::double as list_expected_cost,
        coalesce(r.alerts_raised, 0)::bigint as alerts_raised,
        coalesce(r.critical_raised, 0)::bigint as critical_raised,
        o.alerts_open,
        coalesce(c.actions, 0)::bigint as actions,
        s.forecaster_version,
        s.classifier_version,
        s.eta_source
    from days as d
    left join summary as s on s.as_of_date = d.as_of_date
    left join open_counts as n on n.as_of_date = d.as_of_date
    left join listed as l on l.as_of_date = d.as_of_date
    left join raised as r on r.as_of_date = d.as_of_date
    left join still_open as o on o.as_of_date = d.as_of_date
    left join acted as c on c.as_of_date = d.as_of_date
)

select * from final
order by as_of_date desc
