-- The newest event at or before the as-of instant: how fresh the feed was when the day was judged.
with visible as (
    select event_ts
    from events
    where event_ts <= $as_of_at
),
final as (
    select
        max(event_ts) as last_event_at,
        count(*)::bigint as events
    from visible
)
select * from final
