-- Every stall breach visible by $as_of: an order stayed in one stage longer than its limit, and the
-- breach instant is entering the stage + the limit. The same rule as features_targets.sql (and
-- core.simulate.stuck_orders): configured limits, the 95th percentile of its own dwell times for an
-- activity without one, terminal stages never stall, and an open stage counts up to $as_of.
-- Reads the events itself with only the columns the rule needs (not features_events.sql with its
-- attributes and prefix windows): the outcome pages pay this on every first render.
create or replace temp table acc_breaches as
with visible as materialized (
    select
        order_id,
        stage,
        event_ts,
        lead(event_ts, 1) over (partition by order_id order by event_ts, event_id) as next_event_ts,
        list_contains($terminal_stages, stage) as is_terminal
    from events
    where event_ts <= $as_of
),

stage_limits as (
    select
        unnest($stall_stages) as stage,
        unnest($stall_hours) as stall_limit_h
),

data_limits as (
    select
        stage,
        quantile_cont(date_diff('second', event_ts, next_event_ts) / 3600.0, 0.95) as stall_limit_h
    from visible
    where next_event_ts is not null
    group by stage
),

limits as (
    select
        d.stage,
        coalesce(s.stall_limit_h, d.stall_limit_h) as stall_limit_h
    from data_limits as d
    left join stage_limits as s on s.stage = d.stage
    union all
    select
        s.stage,
        s.stall_limit_h
    from stage_limits as s
    where s.stage not in (select stage from data_limits)
),

final as (
    select
        e.order_id,
        e.stage,
        e.event_ts + to_microseconds((l.stall_limit_h * 3600e6)::bigint) as breach_at
    from visible as e
    inner join limits as l on l.stage = e.stage
    where not e.is_terminal
        and date_diff('second', e.event_ts, coalesce(e.next_event_ts, $as_of::timestamp)) / 3600.0 > l.stall_limit_h
)

select * from final
