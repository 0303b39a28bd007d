insert into interval_calibration (
    as_of_date, forecaster_version, segment, value, forecasts, delivered,
    scale_p10, scale_p50, scale_p90, level_p10, level_p90, computed_at
)
select
    as_of_date::date,
    forecaster_version::varchar,
    segment::varchar,
    value::varchar,
    forecasts::integer,
    delivered::integer,
    scale_p10::double,
    scale_p50::double,
    scale_p90::double,
    level_p10::double,
    level_p90::double,
    computed_at::timestamp
from calibration_rows
