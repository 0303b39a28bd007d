-- The store's latest event: its own clock, which a simulated world may run ahead of the wall clock.
with final as (
    select max(event_ts) as last_event_at
    from events
)

select * from final
