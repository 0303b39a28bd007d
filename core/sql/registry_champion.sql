with
final as (
    select
        kind,
        version_id,
        since_at,
        audit_id
    from model_champions
    where kind = $kind
)
select * from final
