-- One recorded action by its id.
with final as (
    select *
    from triage_actions
    where action_id = $action_id
)

select * from final
