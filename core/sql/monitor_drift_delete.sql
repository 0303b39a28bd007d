delete from drift_results where as_of = $as_of
