update job_runs
set status = 'abandoned',
    ended_at = $at,
    error = $why
where run_id = $run_id
