-- The next revision number of one kind.
with final as (
    select coalesce(max(revision), 0)::integer + 1 as revision
    from assumptions_history
    where kind = $kind
)

select * from final
