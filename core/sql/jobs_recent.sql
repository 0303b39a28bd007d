with
runs as (
    select
        run_id,
        kind,
        status,
        params,
        started_at,
        ended_at,
        date_diff('millisecond', started_at, ended_at) / 1000.0 as duration_s,
        error,
        figures
    from job_runs
    where $kind is null or kind = $kind
),
final as (
    select * from runs order by started_at desc limit $limit
)
select * from final
