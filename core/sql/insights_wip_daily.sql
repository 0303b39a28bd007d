-- Work in progress: the cases in each stage at the end of each day of the window. A case sits
-- in the stage of its latest event until its next event; a case whose latest event is an end
-- stage ($end_stages) has left the process. Needs ins_sequenced.
with
stays as (
    select
        stage,
        entered_at,
        case
            when left_at is not null then left_at
            when list_contains($end_stages, stage) then entered_at
            else $end_at
        end as until_at
    from ins_sequenced
),
days as (
    select
        day::date as day,
        least(day + interval 1 day, $end_at) as snapshot_at
    from range(date_trunc('day', $start_at), $end_at, interval 1 day) as t(day)
),
in_stage as (
    select
        days.day,
        stays.stage
    from days
    inner join stays
        on stays.entered_at < days.snapshot_at
        and stays.until_at >= days.snapshot_at
),
final as (
    select
        day,
        stage,
        count(*)::bigint as cases
    from in_stage
    group by day, stage
)
select * from final
order by day, stage
