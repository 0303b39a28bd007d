insert into triage_actions
with final as (
    select
        action_id::varchar as action_id,
        order_id::varchar as order_id,
        as_of_date::date as as_of_date,
        action::varchar as action,
        note::varchar as note,
        actor::varchar as actor,
        acted_at::timestamp as acted_at
    from action_rows
)

select * from final
