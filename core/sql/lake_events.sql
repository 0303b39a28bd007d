-- The events for the lake: the whole store ($whole), or the rows one ingest run loaded (files named
-- $sources, loaded at or after $since: the contract's rows, never the quarantined ones).
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
where $whole or (source in (select unnest($sources)) and loaded_at >= $since)
order by event_date, order_id, event_ts, event_id
