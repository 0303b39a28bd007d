-- Files (by content hash) that are already in the store.
with
final as (
    select
        sha256,
        min(loaded_at) as loaded_at
    from ingested_files
    where list_contains($sha256s, sha256)
    group by sha256
)
select * from final
