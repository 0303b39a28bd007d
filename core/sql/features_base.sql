-- Point-in-time features of every prefix in feat_prefixes: only events with ordinal <= prefix_len
-- (so event_ts <= as_of_at) are used, and inter-case load counts only what happened before as_of_at
-- (levels from feat_load_series: features_load_series, or features_load_levels for one instant).
with prefixes as (
    select
        row_number() over (order by order_id, as_of_at, prefix_len)::bigint as prefix_id,
        order_id,
        prefix_len,
        as_of_at
    from feat_prefixes
),

stall_limits as (
    select
        unnest($stall_stages) as stage,
        unnest($stall_hours) as stall_limit_h
),

current_event as (
    select
        p.prefix_id,
        p.order_id,
        p.prefix_len,
        p.as_of_at,
        e.stage as current_stage,
        e.prev_stage_1,
        e.prev_stage_2,
        e.event_ts as last_event_at,
        e.prev_event_ts,
        e.first_event_ts,
        e.exceptions_so_far
    from prefixes as p
    inner join feat_events as e
        on e.order_id = p.order_id
        and e.ordinal = p.prefix_len
),

with_order as (
    select
        c.*,
        o.channel,
        o.region,
        o.customer_tier,
        o.category,
        o.payment_method,
        o.ship_mode,
        o.warehouse,
        o.carrier,
        o.order_value,
        o.items,
        date_diff('second', c.as_of_at, o.promised_at) / 3600.0 as to_promise_h,
        s.stall_limit_h
    from current_event as c
    left join orders as o on o.order_id = c.order_id
    left join stall_limits as s on s.stage = c.current_stage
),

-- Loads are read strictly before as_of_at so that events at the same instant (the prefix's own
-- next event among them) can never leak in. Many prefixes share a (load key, instant): the asof join
-- runs once per distinct pair and the prefixes look their levels up by equality (nine asof joins over
-- every prefix held gigabytes at 1M open orders). The pairs come from the prefixes themselves, so the
-- wide per-prefix rows are computed once, streaming, not kept for a second reader.
load_wanted as (
    select distinct e.stage as load_key, p.as_of_at as at
    from feat_prefixes as p
    inner join feat_events as e
        on e.order_id = p.order_id
        and e.ordinal = p.prefix_len
    union
    select distinct 'warehouse=' || o.warehouse, p.as_of_at
    from feat_prefixes as p
    inner join orders as o on o.order_id = p.order_id
    where o.warehouse is not null
    union
    select distinct 'carrier=' || o.carrier, p.as_of_at
    from feat_prefixes as p
    inner join orders as o on o.order_id = p.order_id
    where o.carrier is not null
    union
    select distinct k.load_key, i.at
    from (select distinct as_of_at from feat_prefixes) as t
    cross join (values ('*all*'), ('*events*'), ('*ended*')) as k(load_key)
    cross join lateral (
        select t.as_of_at as at
        union all
        select t.as_of_at - interval 1 day
        union all
        select t.as_of_at - interval 7 day
    ) as i
),

load_levels as (
    select w.load_key, w.at, l.level
    from load_wanted as w
    asof left join feat_load_series as l
        on l.load_key = w.load_key and w.at > l.load_at
),

final as (
    select
        w.prefix_id,
        w.order_id,
        w.prefix_len,
        w.as_of_at,
        w.first_event_ts as order_started_at,
        w.current_stage,
        coalesce(w.prev_stage_1, '(start)') as prev_stage_1,
        coalesce(w.prev_stage_2, '(start)') as prev_stage_2,
        date_diff('second', w.first_event_ts, w.as_of_at) / 3600.0 as elapsed_h,
        date_diff('second', w.last_event_at, w.as_of_at) / 3600.0 as time_in_stage_h,
        date_diff('second', w.prev_event_ts, w.last_event_at) / 3600.0 as prev_step_h,
        date_diff('second', w.first_event_ts, w.last_event_at) / 3600.0 as elapsed_at_last_event_h,
        w.exceptions_so_far::integer as exceptions_so_far,
        w.stall_limit_h,
        date_diff('second', w.last_event_at, w.as_of_at) / 3600.0 / w.stall_limit_h as stall_ratio,
        w.channel,
        w.region,
        w.customer_tier,
        w.category,
        w.payment_method,
        w.ship_mode,
        w.warehouse,
        w.carrier,
        w.order_value,
        w.items,
        w.to_promise_h,
        isodow(w.as_of_at)::integer as as_of_weekday,
        (hour(w.as_of_at) + minute(w.as_of_at) / 60.0) as as_of_hour,
        dayofyear(w.as_of_at)::integer as as_of_day_of_year,
        isodow(w.last_event_at)::integer as last_event_weekday,
        (hour(w.last_event_at) + minute(w.last_event_at) / 60.0) as last_event_hour,
        isodow(w.first_event_ts)::integer as started_weekday,
        coalesce(ls.level, 0)::integer as wip_stage,
        case when w.warehouse is not null then coalesce(lw.level, 0) end::integer as wip_warehouse,
        case when w.carrier is not null then coalesce(lc.level, 0) end::integer as wip_carrier,
        coalesce(la.level, 0)::integer as wip_all,
        (coalesce(ln.level, 0) - coalesce(ld.level, 0))::integer as events_last_24h,
        (coalesce(ln.level, 0) - coalesce(lk.level, 0))::integer as events_last_7d,
        (coalesce(en.level, 0) - coalesce(ed.level, 0))::integer as completed_last_24h
    from with_order as w
    left join load_levels as ls on ls.load_key = w.current_stage and ls.at = w.as_of_at
    left join load_levels as lw on lw.load_key = 'warehouse=' || w.warehouse and lw.at = w.as_of_at
    left join load_levels as lc on lc.load_key = 'carrier=' || w.carrier and lc.at = w.as_of_at
    left join load_levels as la on la.load_key = '*all*' and la.at = w.as_of_at
    left join load_levels as ln on ln.load_key = '*events*' and ln.at = w.as_of_at
    left join load_levels as en on en.load_key = '*ended*' and en.at = w.as_of_at
    left join load_levels as ld on ld.load_key = '*events*' and ld.at = w.as_of_at - interval 1 day
    left join load_levels as ed on ed.load_key = '*ended*' and ed.at = w.as_of_at - interval 1 day
    left join load_levels as lk on lk.load_key = '*events*' and lk.at = w.as_of_at - interval 7 day
)

select * from final
order by prefix_id
