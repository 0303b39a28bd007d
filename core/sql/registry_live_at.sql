-- The champion of a kind at an instant: the version set by the last champion change before it.
with
changes as (
    select
        audit_id,
        acted_at,
        version_id
    from model_audit
    where kind = $kind
        and action in ('promote', 'rollback')
        and acted_at < $before
),
final as (
    select * from changes
    order by audit_id desc
    limit 1
)
select * from final
