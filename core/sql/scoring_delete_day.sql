-- A re-run replaces the day's scores.
delete from predictions
where as_of_date = $as_of_date
