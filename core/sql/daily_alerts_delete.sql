-- Alert items the evaluations no longer hold (a re-run day that no longer raises them); an
-- acknowledged item is kept.
delete from alerts
where status = 'open'
    and not list_contains($keep_ids, alert_id)
