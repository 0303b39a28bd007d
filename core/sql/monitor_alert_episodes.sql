-- Alert items from the per-day evaluations: a rule and subject raised on consecutive run days is ONE
-- item, opened on its first day (its id hashes that day, rule and subject, as `Alert.alert_id` does),
-- carrying its latest message and value, resolved on the first run day that no longer raised it.
with run_days as (
    select as_of_date as as_of from daily_summary
    union
    select as_of from alert_days
    union
    select as_of from alert_run_days
),

numbered_days as (
    select
        as_of,
        row_number() over (order by as_of) as day_number
    from run_days
),

seen as (
    select
        a.as_of,
        a.rule,
        a.subject,
        a.severity,
        a.message,
        a.value,
        a.threshold,
        d.day_number,
        d.day_number - row_number() over (partition by a.rule, a.subject order by a.as_of) as streak
    from alert_days as a
    inner join numbered_days as d on d.as_of = a.as_of
),

episodes as (
    select
        rule,
        subject,
        min(as_of) as opened_on,
        max(as_of) as last_seen_on,
        count(*)::integer as days_open,
        max(day_number) as last_day_number,
        arg_max(severity, as_of) as severity,
        arg_max(message, as_of) as message,
        arg_max_null(value, as_of) as value,
        arg_max_null(threshold, as_of) as threshold
    from seen
    group by rule, subject, streak
),

final as (
    select
        left(sha256(e.opened_on::varchar || '|' || e.rule || '|' || e.subject), 16) as alert_id,
        e.opened_on as as_of,
        e.rule,
        e.severity,
        e.subject,
        e.message,
        e.value,
        e.threshold,
        e.last_seen_on,
        e.days_open,
        n.as_of as resolved_on
    from episodes as e
    left join numbered_days as n on n.day_number = e.last_day_number + 1
)

select * from final
order by as_of, rule, subject
