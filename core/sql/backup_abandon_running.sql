-- In a restored store no run of the backup's time is still going: free their locks.
update job_runs
set status = 'abandoned',
    ended_at = $at,
    error = 'restored from a backup taken while this run was in progress'
where status = 'running'
