-- The batch of orders files being checked: every row of every file, typed, with its file and row.
create or replace temp table ingest_batch (
    file_index       integer not null,
    row_number       bigint not null,
    order_id         varchar,
    placed_at        timestamp,
    placed_at_bad    boolean not null,
    channel          varchar,
    region           varchar,
    customer_tier    varchar,
    category         varchar,
    order_value      double,
    items            integer,
    payment_method   varchar,
    ship_mode        varchar,
    warehouse        varchar,
    carrier          varchar,
    promised_at      timestamp,
    promised_at_bad  boolean not null
)
