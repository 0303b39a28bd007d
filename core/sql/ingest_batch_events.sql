-- The batch of events files being checked: every row of every file, typed, with its file and row.
create or replace temp table ingest_batch (
    file_index    integer not null,
    row_number    bigint not null,
    event_id      varchar,
    order_id      varchar,
    stage         varchar,
    event_ts      timestamp,
    event_ts_bad  boolean not null
)
