-- The `jobs` input of the job_failed rule: per kind, its latest failed (or abandoned) run when that run
-- ended after the previous day's daily run started, or when no later run of the kind succeeded.
with previous_daily as (
    select max(started_at) as started_at
    from job_runs
    where kind = 'daily'
        and status = 'succeeded'
        and json_extract_string(params, '$.as_of') < $as_of_date::varchar
),

finished as (
    select
        run_id,
        kind,
        status,
        error,
        ended_at
    from job_runs
    where status in ('succeeded', 'failed', 'abandoned')
        and ended_at is not null
),

latest as (
    select
        kind,
        arg_max(status, ended_at) as latest_status
    from finished
    group by kind
),

failed as (
    select
        f.run_id,
        f.kind,
        f.status,
        f.error,
        f.ended_at
    from finished as f
    inner join latest as l on l.kind = f.kind
    cross join previous_daily as p
    where f.status in ('failed', 'abandoned')
        and (l.latest_status <> 'succeeded' or p.started_at is null or f.ended_at > p.started_at)
    qualify row_number() over (partition by f.kind order by f.ended_at desc, f.run_id) = 1
),

final as (
    select
        kind,
        run_id,
        'failed' as status,
        case when status = 'abandoned' then 'abandoned: ' || coalesce(error, 'no end recorded') else error end as error
    from failed
)

select * from final
order by kind
