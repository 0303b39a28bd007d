-- Every saved revision of one kind, newest first (grain: revision x field).
with final as (
    select
        kind,
        revision,
        saved_at,
        actor,
        reason,
        name,
        value
    from assumptions_history
    where kind = $kind
)

select * from final
order by revision desc, name
