update model_versions
set
    status = $status,
    status_changed_at = $changed_at
where version_id = $version_id
