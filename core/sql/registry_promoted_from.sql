-- The champion a version replaced when it was last promoted (rollbacks do not count: rolling
-- back twice goes two steps back, not back and forth).
with
promotions as (
    select
        audit_id,
        previous_version_id
    from model_audit
    where version_id = $version_id
        and action = 'promote'
),
final as (
    select * from promotions
    order by audit_id desc
    limit 1
)
select * from final
