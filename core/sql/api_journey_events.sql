-- The store's events up to $as_of with the posted journey in place of any stored events of its order.
create or replace temp table api_events as
with stored as (
    select
        event_id,
        order_id,
        stage,
        event_ts,
        attrs,
        source,
        loaded_at
    from events
    where event_ts <= $as_of
        and order_id <> $order_id
),

posted as (
    select
        unnest($event_ids::varchar[]) as event_id,
        $order_id::varchar as order_id,
        unnest($stages::varchar[]) as stage,
        unnest($event_ts::timestamp[]) as event_ts,
        unnest($event_attrs::varchar[])::json as attrs,
        'api' as source,
        $now::timestamp as loaded_at
),

final as (
    select * from stored
    union all by name
    select * from posted
)

select * from final
