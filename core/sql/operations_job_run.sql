with
run as (
    select
        run_id,
        kind,
        status,
        params,
        pid,
        host,
        started_at,
        ended_at,
        date_diff('millisecond', started_at, ended_at) / 1000.0 as duration_s,
        error,
        figures
    from job_runs
    where ($run_id is null or run_id = $run_id)
      and ($kind is null or kind = $kind)
      and ($pid is null or pid = $pid)
),
final as (
    select * from run order by started_at desc
)
select * from final
