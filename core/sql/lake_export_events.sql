-- The events of the store for the lake, with the day they happened on (the Parquet partition).
select
    event_id,
    order_id,
    stage,
    event_ts,
    attrs::varchar as attrs,
    source,
    loaded_at,
    event_ts::date as event_date
from events
order by event_date, order_id, event_ts, event_id
