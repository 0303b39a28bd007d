-- The events of some orders up to an instant: the journeys the load generator posts to /v1/score.
with final as (
    select
        order_id,
        event_id,
        stage,
        event_ts
    from events
    where event_ts <= $as_of
        and list_contains($order_ids, order_id)
)

select * from final
order by order_id, event_ts, event_id
