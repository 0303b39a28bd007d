-- A re-run replaces the day's list.
delete from triage_list
where as_of_date = $as_of_date
