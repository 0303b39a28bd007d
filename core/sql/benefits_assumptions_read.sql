-- Every field of the newest revision of one kind saved at or before $at (all revisions when $at is null).
with revisions as (
    select
        kind,
        revision,
        name,
        value,
        actor,
        reason,
        saved_at
    from assumptions_history
    where kind = $kind
        and ($at::timestamp is null or saved_at <= $at::timestamp)
),

latest as (
    select max(revision) as revision
    from revisions
),

final as (
    select r.*
    from revisions as r
    inner join latest as l on l.revision = r.revision
)

select * from final
order by name
