-- The interval corrections of one day (every version and segment value), as the daily run applied them.
select *
from interval_calibration
where as_of_date = $as_of_date
order by forecaster_version, value
