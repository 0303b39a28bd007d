-- Interval corrections become factors on 1 + hours (errors grow with the time still ahead) instead of
-- hours added to every bound. Older rows are of the replaced method and are derived data: a rerun of
-- `daily` for a day recomputes that day's from its predictions, so they are not converted.
drop table interval_calibration;

create table interval_calibration (
    as_of_date          date not null,       -- the day whose run estimated it (applied to that day's scores)
    forecaster_version  varchar not null,
    segment             varchar not null,    -- the order attribute, e.g. carrier
    value               varchar not null,    -- its value, or '*' for every order
    forecasts           integer not null,    -- served forecasts of the window it learned from
    delivered           integer not null,    -- of which delivered by the run (the rest count as not yet)
    scale_p10           double not null,     -- the factor on 1 + hours of the raw p10 / p50 / p90
    scale_p50           double not null,
    scale_p90           double not null,
    computed_at         timestamp not null
);
