-- How fresh the data is at the end of the as-of day: the newest event seen by then.
with final as (
    select
        max(event_ts) as last_event_at,
        count(*) filter (where event_ts >= $as_of_at - interval 1 day)::bigint as events_last_day
    from events
    where event_ts < $as_of_at
)

select * from final
