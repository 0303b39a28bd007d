delete from interval_calibration where as_of_date = $as_of_date
