-- The most common paths (variants) of cases that ended inside the window [$start_at, $end_at):
-- a path is the activities of a case in time order, known once the case reaches an end stage.
-- Needs ins_sequenced and ins_cases.
with
ended as (
    select
        order_id,
        date_diff('second', started_at, ended_at) / 86400.0 as journey_days
    from ins_cases
    where list_contains($end_stages, last_stage)
        and ended_at >= $start_at
),
ended_cases as (
    -- the path is spelled out only for the cases that ended in the window
    select
        e.order_id,
        string_agg(s.stage, ' → ' order by s.position) as path,
        count(*)::bigint as events,
        any_value(e.journey_days) as journey_days
    from ended as e
    inner join ins_sequenced as s on s.order_id = e.order_id
    group by e.order_id
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
