with
final as (
    select
        model_versions.version_id,
        model_versions.kind,
        model_versions.version_number,
        model_versions.status,
        model_versions.created_at,
        model_versions.status_changed_at,
        model_versions.training_window::varchar as training_window,
        model_versions.feature_columns::varchar as feature_columns,
        model_versions.metrics::varchar as metrics,
        model_versions.backtest::varchar as backtest,
        model_versions.evaluation::varchar as evaluation,
        model_versions.gate::varchar as gate,
        model_versions.artifact_path,
        model_versions.artifact_sha256,
        model_champions.version_id is not null as is_champion
    from model_versions
    left join model_champions
        on model_champions.version_id = model_versions.version_id
    where model_versions.version_id = $version_id
)
select * from final
