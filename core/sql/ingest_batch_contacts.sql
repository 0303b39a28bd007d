-- The batch of contacts files being checked: every row of every file, typed, with its file and row.
create or replace temp table ingest_batch (
    file_index      integer not null,
    row_number      bigint not null,
    contact_id      varchar,
    order_id        varchar,
    contact_at      timestamp,
    contact_at_bad  boolean not null,
    reason          varchar
)
