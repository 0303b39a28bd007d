-- Initial schema. All timestamps are UTC, stored as TIMESTAMP (no zone).
create table orders (
    order_id        varchar not null,
    placed_at       timestamp,
    channel         varchar,
    region          varchar,
    customer_tier   varchar,
    category        varchar,
    order_value     double,
    items           integer,
    payment_method  varchar,
    ship_mode       varchar,
    warehouse       varchar,
    carrier         varchar,
    promised_at     timestamp,
    attrs           json,       -- any other case attributes (imported logs), as a JSON object
    source          varchar not null,
    loaded_at       timestamp not null
);

create table events (
    event_id   varchar not null,
    order_id   varchar not null,
    stage      varchar not null,   -- the activity: a journey stage, an exception, or any activity of an imported log
    event_ts   timestamp not null,
    attrs      json,               -- event attributes other than the mapped ones (imported logs)
    source     varchar not null,
    loaded_at  timestamp not null
);

create table contacts (
    contact_id  varchar not null,
    order_id    varchar not null,
    contact_at  timestamp not null,
    reason      varchar,
    source      varchar not null,
    loaded_at   timestamp not null
);

create table quarantine (
    source          varchar not null,
    row_number      bigint,
    record          json,
    reason          varchar not null,
    quarantined_at  timestamp not null
);

create table ingested_files (
    sha256            varchar not null,
    path              varchar not null,
    kind              varchar not null,
    rows_loaded       bigint not null,
    rows_quarantined  bigint not null,
    loaded_at         timestamp not null
);
