-- Targets of every prefix, from the order's whole visible journey (the future of the prefix):
-- remaining time to completion and whether the order gets stuck after as_of_at.
-- $completion = 'terminal': a journey ends at its first terminal stage (the order world);
-- 'last_event': it ends at its last event (a closed historical log).
with stage_limits as (
    select
        unnest($stall_stages) as stage,
        unnest($stall_hours) as stall_limit_h
),

-- Activities without a configured limit get the 95th percentile of their own dwell times.
data_limits as (
    select
        stage,
        quantile_cont(date_diff('second', event_ts, next_event_ts) / 3600.0, 0.95) as stall_limit_h
    from feat_events
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
    select s.stage, s.stall_limit_h
    from stage_limits as s
    where s.stage not in (select stage from data_limits)
),

breaches as (
    select
        e.order_id,
        e.event_ts + to_microseconds((l.stall_limit_h * 3600e6)::bigint) as breach_at
    from feat_events as e
    inner join limits as l on l.stage = e.stage
    where not e.is_terminal
        and date_diff('second', e.event_ts, coalesce(e.next_event_ts, $as_of::timestamp)) / 3600.0 > l.stall_limit_h
),

journeys as (
    select
        order_id,
        case
            when $completion = 'last_event' then max(event_ts)
            else min(case when is_terminal then event_ts end)
        end as ended_at,
        case
            when $completion = 'last_event' then arg_max(stage, ordinal)
            else arg_min(case when is_terminal then stage end, case when is_terminal then ordinal end)
        end as ended_stage,
        count(*)::integer as order_events
    from feat_events
    group by order_id
),

prefix_breaches as (
    select
        p.order_id,
        p.prefix_len,
        p.as_of_at,
        count(b.breach_at)::integer as breaches_after
    from feat_prefixes as p
    left join breaches as b
        on b.order_id = p.order_id
        and b.breach_at > p.as_of_at
    group by p.order_id, p.prefix_len, p.as_of_at
),

final as (
    select
        p.order_id,
        p.prefix_len,
        p.as_of_at,
        j.ended_at as order_ended_at,
        j.ended_stage as order_ended_stage,
        j.order_events,
        case
            when j.ended_at is not null and ($completion = 'last_event' or j.ended_stage != $cancelled_stage)
                then date_diff('second', p.as_of_at, j.ended_at) / 3600.0
        end as remaining_h,
        case
            when p.breaches_after > 0 then 1
            when j.ended_at is not null then 0
        end as stuck_label
    from prefix_breaches as p
    inner join journeys as j on j.order_id = p.order_id
)

select * from final
