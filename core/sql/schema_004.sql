-- Monitoring: per-day drift of features and predictions, feature validity, alerts and webhook deliveries.
-- A daily run replaces its own day's drift and validity rows, so re-running a day changes nothing.
create table drift_results (
    as_of               date not null,
    model_version       varchar,             -- whose reference sample the batch was compared with
    "column"            varchar not null,
    role                varchar not null,    -- feature or prediction
    kind                varchar not null,    -- numeric or categorical
    method              varchar,             -- the Evidently stat test, null when not run
    score               double,
    threshold           double,
    drifted             boolean,             -- Evidently's verdict on the distribution
    missing_rate_ref    double,
    missing_rate_cur    double,
    missing_rate_jumped boolean not null,
    new_categories      varchar[],           -- values of the batch never seen in the reference
    new_category_share  double not null,     -- share of the batch's non-null rows holding them
    status              varchar not null,    -- ok, drifted, too_small, invalid
    note                varchar,
    rows_ref            bigint not null,
    rows_cur            bigint not null,
    computed_at         timestamp not null,
    primary key (as_of, "column")
);

create table drift_snapshots (
    as_of          date not null primary key,
    model_version  varchar,
    rows_ref       bigint not null,
    rows_cur       bigint not null,
    sampled_ref    bigint not null,
    sampled_cur    bigint not null,
    snapshot_json  varchar,                  -- Evidently's snap.dumps(); null when nothing could be compared
    computed_at    timestamp not null
);

create table validity_batches (
    as_of              date not null primary key,
    rows_total         bigint not null,
    rows_quarantined   bigint not null,
    quarantined_share  double not null,
    computed_at        timestamp not null
);

create table validity_reasons (
    as_of     date not null,
    reason    varchar not null,
    rows_quarantined  bigint not null,
    share             double not null,      -- of the batch's rows
    examples  json,                         -- a few quarantined records with their source and row number
    primary key (as_of, reason)
);

create table alerts (
    alert_id      varchar not null primary key,   -- hash of as_of, rule and subject: a re-run updates, never duplicates
    as_of         date not null,
    rule          varchar not null,
    severity      varchar not null,               -- info, warning, critical
    subject       varchar not null,
    message       varchar not null,
    status        varchar not null,               -- open, acknowledged
    value         double,
    threshold     double,
    created_at    timestamp not null,
    updated_at    timestamp not null
);

create table alert_deliveries (
    delivered_at  timestamp not null,
    target        varchar not null,    -- scheme and host only: a webhook path often carries a secret
    alert_ids     varchar[] not null,
    ok            boolean not null,
    attempts      integer not null,
    status_code   integer,
    error         varchar
);
