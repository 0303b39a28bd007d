-- Model registry: versions, the champion pointer per kind, and the audit log of every change to it.
create table model_versions (
    version_id        varchar primary key,  -- '<kind>-v<version_number>', e.g. 'forecaster-v3'
    kind              varchar not null,     -- 'forecaster' | 'stuck_classifier'
    version_number    integer not null,     -- increases per kind
    status            varchar not null,     -- candidate | pending_approval | champion | retired | rejected
    created_at        timestamp not null,
    status_changed_at timestamp not null,
    training_window   json,
    feature_columns   json,
    metrics           json,
    backtest          json,
    evaluation        json,                 -- on the holdout the gate compared (see core/gate.py)
    gate              json,                 -- the gate decision, once the gate has run
    artifact_path     varchar not null,     -- relative to the store's models folder
    artifact_sha256   varchar not null
);

create table model_champions (
    kind        varchar primary key,
    version_id  varchar not null,
    since_at    timestamp not null,
    audit_id    bigint not null             -- the audit row that made it champion
);

create table model_audit (
    audit_id             bigint primary key,
    acted_at             timestamp not null,
    kind                 varchar not null,
    action               varchar not null,  -- promote | rollback | reject
    version_id           varchar not null,
    previous_version_id  varchar,           -- the champion before this action (null: none)
    actor                varchar not null,
    reason               varchar not null,
    metrics              json,
    gate                 json
);
