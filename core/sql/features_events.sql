-- Every visible event (event_ts <= $as_of) with its ordinal in its order and what came just before.
-- The ordinal breaks timestamp ties by event id, so prefix k is always the same k events.
create or replace temp table feat_events as
with visible as (
    select
        order_id,
        event_id,
        stage,
        event_ts,
        attrs
    from events
    where event_ts <= $as_of
      -- Scoring at one instant reads only the orders still open (their load levels come from
      -- features_load_levels, which reads every event).
      and (not $only_open or order_id not in (
          select order_id
          from events
          where event_ts <= $as_of
          group by order_id
          having bool_or(list_contains($terminal_stages, stage))
      ))
),

ordered as (
    select
        order_id,
        event_id,
        stage,
        event_ts,
        attrs,
        row_number() over (partition by order_id order by event_ts, event_id)::integer as ordinal
    from visible
),

final as (
    select
        order_id,
        ordinal,
        stage,
        event_ts,
        attrs,
        lag(stage, 1) over w as prev_stage_1,
        lag(stage, 2) over w as prev_stage_2,
        lag(event_ts, 1) over w as prev_event_ts,
        lead(event_ts, 1) over w as next_event_ts,
        min(event_ts) over (partition by order_id) as first_event_ts,
        (sum(case when list_contains($exception_stages, stage) then 1 else 0 end) over w_run)::integer as exceptions_so_far,
        list_contains($terminal_stages, stage) as is_terminal
    from ordered
    window
        w as (partition by order_id order by ordinal),
        w_run as (partition by order_id order by ordinal rows between unbounded preceding and current row)
)

select * from final
