-- Live interval calibration: predictions keep the model's own bounds beside the calibrated ones they
-- serve, and each day's corrections are kept per forecaster version and segment.
alter table predictions add column model_p10_h double;  -- the model's raw quantiles (p10_h.. are calibrated)
alter table predictions add column model_p50_h double;
alter table predictions add column model_p90_h double;

create table interval_calibration (
    as_of_date          date not null,       -- the day whose run estimated it (applied to that day's scores)
    forecaster_version  varchar not null,
    segment             varchar not null,    -- the order attribute, e.g. carrier
    value               varchar not null,    -- its value, or '*' for every order
    forecasts           integer not null,    -- served forecasts of the window it learned from
    delivered           integer not null,    -- of which delivered by the run (the rest count as not yet)
    shift_p10_h         double not null,     -- hours added to the raw p10 / p50 / p90
    shift_p50_h         double not null,
    shift_p90_h         double not null,
    computed_at         timestamp not null
);
