-- The events that one ingest run loaded (the contract's rows, not the quarantined ones), for the lake.
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
where source in (select unnest($sources))
    and loaded_at >= $since
order by event_date, order_id, event_ts, event_id
