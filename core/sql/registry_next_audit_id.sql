with
final as (
    select coalesce(max(audit_id), 0)::bigint + 1 as next_audit_id
    from model_audit
)
select * from final
