-- The most common paths (variants) of cases that ended inside the window [$start_at, $end_at):
-- a path is the activities of a case in time order, known once the case reaches an end stage.
with
known_events as (
    select
        order_id,
        stage,
        event_ts,
        event_id
    from events
    where event_ts < $end_at
),
cases as (
    select
        order_id,
        string_agg(stage, ' → ' order by event_ts, event_id) as path,
        arg_max(stage, (event_ts, event_id)) as last_stage,
        count(*)::bigint as events,
        min(event_ts) as started_at,
        max(event_ts) as ended_at
    from known_events
    group by order_id
),
ended_cases as (
    select
        path,
        events,
        date_diff('second', started_at, ended_at) / 86400.0 as journey_days
    from cases
    where list_contains($end_stages, last_stage)
        and ended_at >= $start_at
),
by_path as (
    select
        path,
        min(events)::bigint as events,
        count(*)::bigint as cases,
        quantile_cont(journey_days, 0.5) as median_journey_days
    from ended_cases
    group by path
),
final as (
    select
        row_number() over (order by cases desc, path) as rank,
        path,
        events,
        cases,
        100.0 * cases / sum(cases) over () as share_pct,
        median_journey_days,
        count(*) over ()::bigint as distinct_paths
    from by_path
)
select * from final
where rank <= $top
order by rank
