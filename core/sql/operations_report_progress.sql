-- A running job's progress; a finished run keeps the figures it ended with.
update job_runs
set figures = $figures
where run_id = $run_id
  and status = 'running'
