-- The orders the triage team acted on from one morning's list.
with final as (
    select distinct order_id
    from triage_actions
    where as_of_date = $as_of_date
      and action not in ('no_action', 'false_alarm')
)

select * from final
