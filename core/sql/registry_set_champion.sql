insert into model_champions (
    kind,
    version_id,
    since_at,
    audit_id
)
values (
    $kind,
    $version_id,
    $changed_at,
    $audit_id
)
on conflict (kind) do update set
    version_id = excluded.version_id,
    since_at = excluded.since_at,
    audit_id = excluded.audit_id
