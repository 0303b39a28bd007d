-- Inter-case load levels for features_base: per load key (a stage, 'warehouse=…', 'carrier=…', '*all*',
-- '*events*', '*ended*'), the running level after each instant at which it changed, up to $as_of.
-- features_base reads the level just before each prefix's instant (asof join), so any instant works.
-- The deltas are the same as in features_load_levels (the single-instant shortcut); keep them equal.
create or replace temp table feat_load_series as
with
-- Entering a stage adds one to its work in progress; leaving it (the next event) or going stale
-- (no news for $wip_horizon_h hours) takes it off again. Terminal stages are not work.
stage_deltas as (
    select stage as load_key, event_ts as load_at, 1 as delta
    from feat_events
    where not is_terminal
    union all
    select
        stage as load_key,
        least(coalesce(next_event_ts, event_ts + to_hours($wip_horizon_h::bigint)), event_ts + to_hours($wip_horizon_h::bigint)) as load_at,
        -1 as delta
    from feat_events
    where not is_terminal
),

journeys as (
    select
        e.order_id,
        min(e.event_ts) as first_event_ts,
        min(case when e.is_terminal then e.event_ts end) as end_ts
    from feat_events as e
    group by e.order_id
),

-- Open orders per warehouse, per carrier and in all: from the first event to the terminal one.
order_deltas as (
    select
        k.load_key,
        d.load_at,
        d.delta
    from journeys as j
    inner join orders as o on o.order_id = j.order_id
    cross join lateral (
        select 'warehouse=' || o.warehouse as load_key where o.warehouse is not null
        union all
        select 'carrier=' || o.carrier where o.carrier is not null
        union all
        select '*all*'
    ) as k
    cross join lateral (
        select j.first_event_ts as load_at, 1 as delta
        union all
        select least(coalesce(j.end_ts, j.first_event_ts + to_hours($wip_horizon_h::bigint)), j.first_event_ts + to_hours($wip_horizon_h::bigint)), -1
    ) as d
),

event_deltas as (
    select '*events*' as load_key, event_ts as load_at, 1 as delta from feat_events
    union all
    select '*ended*', event_ts, 1 from feat_events where is_terminal
),

final as (
    select
        load_key,
        load_at,
        sum(sum(delta)) over (partition by load_key order by load_at rows between unbounded preceding and current row) as level
    from (
        select * from stage_deltas
        union all
        select * from order_deltas
        union all
        select * from event_deltas
    )
    where load_at <= $as_of
    group by load_key, load_at
)

select * from final
