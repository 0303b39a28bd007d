update job_runs
set status = $status,
    ended_at = $at,
    error = $error,
    figures = $figures
where run_id = $run_id
