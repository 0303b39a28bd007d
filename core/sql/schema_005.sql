-- Job runs: one row per run of daily, backfill, retrain, ...; a running row is the lock of its kind.
create table job_runs (
    run_id      varchar not null,
    kind        varchar not null,
    status      varchar not null,      -- running, succeeded, failed, abandoned
    params      json,
    pid         integer not null,
    host        varchar not null,
    started_at  timestamp not null,
    ended_at    timestamp,
    error       varchar,
    figures     json
);
