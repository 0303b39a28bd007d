insert into interval_calibration
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
    computed_at::timestamp
from calibration_rows
