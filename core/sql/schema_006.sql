-- The daily cycle's outputs: scores, the triage list with its holdout, what triage did, what customers saw.

-- One row per open order, per morning, per model role (the champion serves; the challenger runs in shadow).
create table predictions (
    as_of_date          date not null,       -- the morning the scores are for
    as_of_at            timestamp not null,  -- the instant the features were computed at (UTC)
    order_id            varchar not null,
    role                varchar not null,    -- champion | challenger
    forecaster_version  varchar,
    classifier_version  varchar,
    current_stage       varchar,
    elapsed_h           double,
    p10_h               double,              -- remaining hours to delivery, quantiles
    p50_h               double,
    p90_h               double,
    eta_p10_at          timestamp,           -- as_of_at + p10_h, etc.
    eta_p50_at          timestamp,
    eta_p90_at          timestamp,
    stuck_prob          double,
    scored_at           timestamp not null
);

-- The would-be list of each morning, ranked by expected cost of delay; held-out rows are never shown.
create table triage_list (
    as_of_date     date not null,
    order_id       varchar not null,
    rank           integer not null,          -- 1 = most expected cost, over shown and held-out rows alike
    expected_cost  double not null,           -- stuck_prob x cost of a stuck order for this order
    stuck_prob     double not null,
    held_out       boolean not null,
    reasons        json,                      -- [{"feature": ..., "effect": ..., "text": ...}, ...] from the model
    eta_p10_at     timestamp,
    eta_p50_at     timestamp,
    eta_p90_at     timestamp,
    created_at     timestamp not null
);

-- What the triage team did about an order (from the dashboard or the simulated team).
create table triage_actions (
    action_id   varchar not null,
    order_id    varchar not null,
    as_of_date  date not null,        -- the list the action was taken from
    action      varchar not null,     -- contacted_customer, chased_warehouse, chased_carrier, expedited, no_action, false_alarm
    note        varchar,
    actor       varchar not null,
    acted_at    timestamp not null
);

-- The delivery date a customer was shown, from a date on: the static promise before go-live, the model after.
create table eta_shown (
    order_id    varchar not null,
    shown_from  date not null,
    eta_at      timestamp not null,
    source      varchar not null,      -- static | model
    version     varchar                -- forecaster version when source = model
);
