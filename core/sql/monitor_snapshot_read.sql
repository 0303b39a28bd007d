with final as (
    select
        as_of,
        model_version,
        snapshot_json
    from drift_snapshots
    where as_of = $as_of
)
select * from final
