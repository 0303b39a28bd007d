update job_runs
set status = 'abandoned',
    ended_at = $at,
    error = 'the process ended without finishing'
where run_id = $run_id
