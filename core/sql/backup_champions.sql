-- The champion of every kind, recorded in a backup's manifest.
with
champions as (
    select
        kind,
        version_id
    from model_champions
),
final as (
    select * from champions order by kind
)
select * from final
