with
versions as (
    select * from model_versions
    where $kind::varchar is null or kind = $kind::varchar
),
final as (
    select
        versions.version_id,
        versions.kind,
        versions.version_number,
        versions.status,
        versions.created_at,
        versions.status_changed_at,
        versions.training_window::varchar as training_window,
        versions.feature_columns::varchar as feature_columns,
        versions.metrics::varchar as metrics,
        versions.backtest::varchar as backtest,
        versions.evaluation::varchar as evaluation,
        versions.gate::varchar as gate,
        versions.artifact_path,
        versions.artifact_sha256,
        model_champions.version_id is not null as is_champion
    from versions
    left join model_champions
        on model_champions.version_id = versions.version_id
)
select * from final
order by kind, version_number
