-- Every run still marked running, of any kind (a restore must not pull the store from under one).
with
running as (
    select
        run_id,
        kind,
        pid,
        host,
        started_at
    from job_runs
    where status = 'running'
),
final as (
    select * from running order by started_at
)
select * from final
