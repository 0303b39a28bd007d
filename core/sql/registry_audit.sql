with
audit as (
    select * from model_audit
    where $kind::varchar is null or kind = $kind::varchar
),
final as (
    select
        audit_id,
        acted_at,
        kind,
        action,
        version_id,
        previous_version_id,
        actor,
        reason,
        metrics::varchar as metrics,
        gate::varchar as gate
    from audit
)
select * from final
order by audit_id
