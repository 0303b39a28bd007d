-- Prefixes at a grid of as-of instants: every order open at the instant, with the events it had by then.
-- An order is open at t once its first event is <= t and until its terminal event (if any) is <= t.
create or replace temp table feat_prefixes as
with instants as (
    select unnest(generate_series($start_at::timestamp, $end_at::timestamp, to_minutes($every_min::bigint))) as as_of_at
),

journeys as (
    select
        order_id,
        min(event_ts) as first_event_ts,
        min(case when is_terminal then event_ts end) as end_ts
    from feat_events
    group by order_id
),

open_at as (
    select
        j.order_id,
        i.as_of_at
    from instants as i
    inner join journeys as j
        on j.first_event_ts <= i.as_of_at
        and (j.end_ts is null or j.end_ts > i.as_of_at)
),

last_ordinal as (
    select
        order_id,
        event_ts,
        max(ordinal) as ordinal
    from feat_events
    group by order_id, event_ts
),

final as (
    select
        o.order_id,
        l.ordinal as prefix_len,
        o.as_of_at
    from open_at as o
    asof inner join last_ordinal as l
        on o.order_id = l.order_id
        and o.as_of_at >= l.event_ts
)

select * from final
