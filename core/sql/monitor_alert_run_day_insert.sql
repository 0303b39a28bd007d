-- A day the alert rules were evaluated on (kept once: a re-run of the day changes nothing here).
insert into alert_run_days (as_of)
values ($as_of)
on conflict (as_of) do nothing
