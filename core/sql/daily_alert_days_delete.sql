-- A re-run day's evaluations, replaced by the new run's.
delete from alert_days
where as_of = $as_of
