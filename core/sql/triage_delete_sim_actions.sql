-- A re-run replaces the simulated team's actions on the day's list; people's actions stay.
delete from triage_actions
where as_of_date = $as_of_date
  and actor = $actor
