-- Freshness at the as-of instant: the newest event at or before it.
with final as (
    select max(event_ts) as last_event_at
    from events
    where event_ts <= $as_of_at
)

select * from final
