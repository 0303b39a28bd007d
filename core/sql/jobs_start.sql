insert into job_runs (run_id, kind, status, params, pid, host, started_at)
values ($run_id, $kind, 'running', $params, $pid, $host, $at)
