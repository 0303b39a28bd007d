-- A posted journey's events as a batch for the ingestion's own row checks (ingest_check_events.sql):
-- one "file", one row per posted event in the order they were posted.
insert into ingest_batch by name
select
    0 as file_index,
    unnest($row_numbers::bigint[]) as row_number,
    unnest($event_ids::varchar[]) as event_id,
    $order_id::varchar as order_id,
    unnest($stages::varchar[]) as stage,
    unnest($event_ts::timestamp[]) as event_ts,
    false as event_ts_bad
