insert into interval_calibration
select
    as_of_date::date,
    forecaster_version::varchar,
    segment::varchar,
    value::varchar,
    forecasts::integer,
    delivered::integer,
    shift_p10_h::double,
    shift_p50_h::double,
    shift_p90_h::double,
    computed_at::timestamp
from calibration_rows
