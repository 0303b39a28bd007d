-- Alerts as one item per rule and subject while its condition holds: `alerts` holds the episodes
-- (opened on `as_of`, updated while seen, resolved when a run no longer raises it) and
-- `alert_days` keeps every day's evaluation, so the history of values stays queryable.
alter table alerts add column last_seen_on date;     -- the latest run day that raised it
alter table alerts add column days_open integer;     -- run days it was raised on, opening day included
alter table alerts add column resolved_on date;      -- the first run day that no longer raised it; null while open

create table alert_days (
    as_of      date not null,       -- the run day that evaluated it
    rule       varchar not null,
    subject    varchar not null,
    severity   varchar not null,
    message    varchar not null,
    value      double,
    threshold  double,
    primary key (as_of, rule, subject)
);

-- The days alerts were evaluated on (a day that raised nothing resolves what was open the day before).
create table alert_run_days (
    as_of  date not null primary key
);

-- The per-day rows stored so far become their days' evaluations; each stays its own item, and all
-- but the newest of a rule and subject count as resolved (a later day raised it again).
insert into alert_days
select as_of, rule, subject, severity, message, value, threshold
from alerts;

insert into alert_run_days
select distinct as_of
from alerts;

update alerts
set
    last_seen_on = as_of,
    days_open = 1,
    resolved_on = (
        select min(later.as_of)
        from alerts as later
        where later.rule = alerts.rule
            and later.subject = alerts.subject
            and later.as_of > alerts.as_of
    );
