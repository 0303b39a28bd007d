-- The newest migration applied to this store.
with
applied as (
    select max(version)::integer as schema_version
    from schema_version
),
final as (
    select * from applied
)
select * from final
