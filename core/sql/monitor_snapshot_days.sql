-- The days that kept Evidently's drift snapshot (a backfill keeps it for its last days only), newest first.
with final as (
    select as_of
    from drift_snapshots
    where snapshot_json is not null
)

select * from final
order by as_of desc
