delete from drift_snapshots where as_of = $as_of
