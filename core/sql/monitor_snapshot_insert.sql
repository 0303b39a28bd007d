insert into drift_snapshots (
    as_of,
    model_version,
    rows_ref,
    rows_cur,
    sampled_ref,
    sampled_cur,
    snapshot_json,
    computed_at
)
values ($as_of, $model_version, $rows_ref, $rows_cur, $sampled_ref, $sampled_cur, $snapshot_json, $computed_at)
