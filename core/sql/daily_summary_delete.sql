delete from daily_summary
where as_of_date = $as_of_date
