-- Record one triage action unless the same one (same id) is already there: a double click is one action.
insert into triage_actions
with action_row as (
    select
        $action_id::varchar as action_id,
        $order_id::varchar as order_id,
        $as_of_date::date as as_of_date,
        $action::varchar as action,
        $note::varchar as note,
        $actor::varchar as actor,
        $acted_at::timestamp as acted_at
),

final as (
    select *
    from action_row
    where not exists (select 1 from triage_actions where action_id = $action_id)
)

select * from final
