-- Inter-case load levels when every prefix shares ONE instant $as_of (daily scoring): the running
-- level of features_load_series read just before $as_of, one day before and seven days before is the
-- sum of the deltas strictly before that instant, so three filtered sums replace a window over every
-- delta of the history (a sort of tens of millions of rows at scale). Each level is emitted one
-- microsecond before its instant, where features_base's asof join (instant > load_at) finds it as the
-- last change before the instant, exactly as it finds the running level in the full series.
-- The deltas are the same as in features_load_series; keep them equal.
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

levels as (
    select
        load_key,
        sum(delta) filter (where load_at < $as_of) as level_now,
        sum(delta) filter (where load_at < $as_of - interval 1 day) as level_1d,
        sum(delta) filter (where load_at < $as_of - interval 7 day) as level_7d,
        count(*) filter (where load_at < $as_of) as changes_now,
        count(*) filter (where load_at < $as_of - interval 1 day) as changes_1d,
        count(*) filter (where load_at < $as_of - interval 7 day) as changes_7d
    from (
        select * from stage_deltas
        union all
        select * from order_deltas
        union all
        select * from event_deltas
    )
    group by load_key
),

-- A key with no change before an instant has no level there (the asof join finds none, as in the series).
final as (
    select load_key, $as_of::timestamp - interval 1 microsecond as load_at, level_now as level
    from levels
    where changes_now > 0
    union all
    select load_key, $as_of::timestamp - interval 1 day - interval 1 microsecond, level_1d
    from levels
    where changes_1d > 0
    union all
    select load_key, $as_of::timestamp - interval 7 day - interval 1 microsecond, level_7d
    from levels
    where changes_7d > 0
)

select * from final
