-- Inter-case load levels when every prefix shares ONE instant $as_of (daily scoring, the API's journey),
-- straight from the visible events (event_ts <= $as_of): no window, no sort, no per-event table, so the
-- history of ended orders costs one pass. features_base reads the level just before each instant
-- (asof join, instant > load_at); each is emitted one microsecond before its instant.
-- They equal the running levels of features_load_series read just before the instant:
-- - a stage's work in progress: orders whose last event before $as_of (by time, then event id, as the
--   ordinal) is in that non-terminal stage and less than $wip_horizon_h old (every earlier event of
--   the order was left by its next one, also before $as_of);
-- - open orders per warehouse, carrier and in all: first event before $as_of, and neither ended nor
--   past the horizon before it;
-- - events and ended orders so far at $as_of, one day and seven days before (only differences are used).
create or replace temp table feat_load_series as
with visible as (
    select
        order_id,
        event_id,
        stage,
        event_ts,
        list_contains($terminal_stages, stage) as is_terminal
    from events
    where event_ts <= $as_of
),

-- The last event before $as_of is the largest (event_ts, event_id): one struct max per order keeps
-- its stage and terminal flag too (one aggregate state, not three, over every order of the history).
per_order as (
    select
        order_id,
        min(event_ts) as first_event_ts,
        min(event_ts) filter (where is_terminal) as end_ts,
        max({'ts': event_ts, 'id': event_id, 'stage': stage, 'terminal': is_terminal})
            filter (where event_ts < $as_of) as last_event
    from visible
    group by order_id
),

stage_levels as (
    select
        last_event.stage as load_key,
        count(*) as level
    from per_order
    where last_event is not null
      and not last_event.terminal
      and last_event.ts + to_hours($wip_horizon_h::bigint) >= $as_of
    group by last_event.stage
),

open_orders as (
    select o.warehouse, o.carrier
    from per_order as j
    inner join orders as o on o.order_id = j.order_id
    where j.first_event_ts < $as_of
      and least(coalesce(j.end_ts, j.first_event_ts + to_hours($wip_horizon_h::bigint)),
                j.first_event_ts + to_hours($wip_horizon_h::bigint)) >= $as_of
),

order_levels as (
    select 'warehouse=' || warehouse as load_key, count(*) as level
    from open_orders
    where warehouse is not null
    group by warehouse
    union all
    select 'carrier=' || carrier, count(*)
    from open_orders
    where carrier is not null
    group by carrier
    union all
    select '*all*', count(*)
    from open_orders
),

event_counts as (
    select
        count(*) filter (where event_ts < $as_of) as events_now,
        count(*) filter (where event_ts < $as_of - interval 1 day) as events_1d,
        count(*) filter (where event_ts < $as_of - interval 7 day) as events_7d,
        count(*) filter (where is_terminal and event_ts < $as_of) as ended_now,
        count(*) filter (where is_terminal and event_ts < $as_of - interval 1 day) as ended_1d
    from visible
),

final as (
    select load_key, $as_of::timestamp - interval 1 microsecond as load_at, level
    from stage_levels
    union all
    select load_key, $as_of::timestamp - interval 1 microsecond, level
    from order_levels
    union all
    select '*events*', $as_of::timestamp - interval 1 microsecond, events_now from event_counts
    union all
    select '*events*', $as_of::timestamp - interval 1 day - interval 1 microsecond, events_1d from event_counts
    union all
    select '*events*', $as_of::timestamp - interval 7 day - interval 1 microsecond, events_7d from event_counts
    union all
    select '*ended*', $as_of::timestamp - interval 1 microsecond, ended_now from event_counts
    union all
    select '*ended*', $as_of::timestamp - interval 1 day - interval 1 microsecond, ended_1d from event_counts
)

select * from final
