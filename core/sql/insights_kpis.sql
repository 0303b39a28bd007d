-- Headline figures of the window [$start_at, $end_at): active cases (any event inside), events,
-- cases that ended inside (reached an end stage, $end_stages), their journey time from first to
-- last event. Needs ins_cases.
with
ended_cases as (
    select
        date_diff('second', started_at, ended_at) / 86400.0 as journey_days
    from ins_cases
    where list_contains($end_stages, last_stage)
        and ended_at >= $start_at
),
active as (
    select
        count(*) filter (where events_in_window > 0)::bigint as active_cases,
        coalesce(sum(events_in_window), 0)::bigint as events,
        count(*) filter (where not list_contains($end_stages, last_stage))::bigint as open_cases
    from ins_cases
),
ended as (
    select
        count(*)::bigint as ended_cases,
        quantile_cont(journey_days, 0.5) as median_journey_days,
        quantile_cont(journey_days, 0.9) as p90_journey_days
    from ended_cases
),
final as (
    select * from active, ended
)
select * from final
