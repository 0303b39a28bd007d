-- The daily cycle's own record: one row per as-of day with what the run used and produced.
create table daily_summary (
    as_of_date                     date not null primary key,
    as_of_at                       timestamp not null,   -- the instant scored: the end of the as-of day (UTC)
    forecaster_version             varchar,              -- the champions that served (null before go-live)
    classifier_version             varchar,
    challenger_forecaster_version  varchar,              -- scored in shadow, never shown
    challenger_classifier_version  varchar,
    eta_source                     varchar not null,     -- static | model: what customers see from the next day
    eta_quantile                   double,               -- the forecast quantile shown as ETA (model only)
    open_orders                    bigint not null,
    listed                         bigint not null,      -- would-be list, shown and held out
    held_out                       bigint not null,
    sim_actions                    bigint not null,      -- actions of the simulated triage team
    drift_share                    double,
    alerts                         bigint not null,
    retrain_reason                 varchar,              -- why the run asked for a retrain (null: it did not)
    figures                        json,
    computed_at                    timestamp not null
);
