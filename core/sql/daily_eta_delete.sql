-- A re-run replaces what the day decided customers see: static promises of its new orders, model ETAs from the next day.
delete from eta_shown
where (source = 'static' and shown_from = $as_of_date)
   or (source = 'model' and shown_from = $next_date)
