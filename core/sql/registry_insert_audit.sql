insert into model_audit (
    audit_id,
    acted_at,
    kind,
    action,
    version_id,
    previous_version_id,
    actor,
    reason,
    metrics,
    gate
)
values (
    $audit_id,
    $changed_at,
    $kind,
    $action,
    $version_id,
    $previous_version_id,
    $actor,
    $reason,
    $metrics::json,
    $gate::json
)
