-- Every stall breach visible by $as_of: an order stayed in one stage longer than its limit, and the
-- breach instant is entering the stage + the limit. The same rule as features_targets.sql (and
-- core.world.simulate.stuck_orders): configured limits, the 95th percentile of its own dwell times for an
-- activity without one, terminal stages never stall, and an open stage counts up to $as_of.
-- With $listed_only, breaches of the orders in acc_listings only (what the listing outcomes read).
-- Reads the events itself with only the columns the rule needs, and sorts only the orders it must:
-- the outcome pages pay this on every first render.
create or replace temp table acc_breaches as
with unlimited_orders as (
    -- orders that visited a non-terminal stage without a configured limit: their dwells give it a
    -- limit from the data (the order world configures every stage; an imported log may not)
    select distinct order_id
    from events
    where event_ts <= $as_of
        and not list_contains($stall_stages, stage)
        and not list_contains($terminal_stages, stage)
),

scope as (
    select order_id from acc_listings
    union
    select order_id from unlimited_orders
),

sequenced as materialized (
    select
        order_id,
        stage,
        event_ts,
        lead(event_ts, 1) over (partition by order_id order by event_ts, event_id) as next_event_ts,
        list_contains($terminal_stages, stage) as is_terminal,
        not $listed_only or order_id in (select order_id from acc_listings) as in_scope
    from events
    where event_ts <= $as_of
        and (not $listed_only or order_id in (select order_id from scope))
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
    from sequenced
    where next_event_ts is not null
        and not is_terminal
        and not list_contains($stall_stages, stage)
    group by stage
),

limits as (
    select
        stage,
        stall_limit_h
    from stage_limits
    union all
    select
        stage,
        stall_limit_h
    from data_limits
),

final as (
    select
        e.order_id,
        e.stage,
        e.event_ts + to_microseconds((l.stall_limit_h * 3600e6)::bigint) as breach_at
    from sequenced as e
    inner join limits as l on l.stage = e.stage
    where e.in_scope
        and not e.is_terminal
        and date_diff('second', e.event_ts, coalesce(e.next_event_ts, $as_of::timestamp)) / 3600.0 > l.stall_limit_h
)

select * from final
