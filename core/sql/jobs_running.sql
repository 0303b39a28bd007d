select
    run_id,
    kind,
    pid,
    host,
    started_at
from job_runs
where kind = $kind
  and status = 'running'
order by started_at
