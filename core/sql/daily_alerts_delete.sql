-- Alerts of a re-run day that the new run no longer raises (an acknowledged alert is kept).
delete from alerts
where as_of = $as_of
  and status = 'open'
  and not list_contains($keep_ids, alert_id)
