-- Grain: job kind — how often it ran, how it ended, how long it took, and its latest run.
with
runs as (
    select
        kind,
        status,
        started_at,
        error,
        date_diff('millisecond', started_at, ended_at) / 1000.0 as duration_s
    from job_runs
    where $since::timestamp is null or started_at >= $since::timestamp
),
per_kind as (
    select
        kind,
        count(*) as runs,
        count(*) filter (where status = 'succeeded') as succeeded,
        count(*) filter (where status = 'failed') as failed,
        count(*) filter (where status = 'abandoned') as abandoned,
        count(*) filter (where status = 'running') as running,
        median(duration_s) filter (where status = 'succeeded') as median_duration_s,
        max(duration_s) filter (where status = 'succeeded') as max_duration_s,
        max(started_at) as last_started_at,
        arg_max(status, started_at) as last_status,
        max(started_at) filter (where status = 'failed') as last_failed_at,
        arg_max(error, started_at) filter (where status = 'failed') as last_error
    from runs
    group by kind
),
final as (
    select * from per_kind
)
select * from final
order by kind
