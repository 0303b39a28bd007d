-- Dwell time per stage: how long a case stays in a stage, from the event that entered it to the
-- case's next event. Only finished dwells count (the next event is known by $end_at), for dwells
-- entered inside the window [$start_at, $end_at). Needs ins_sequenced.
with
dwells as (
    select
        stage,
        position,
        date_diff('second', entered_at, left_at) / 3600.0 as dwell_h
    from ins_sequenced
    where left_at is not null
        and entered_at >= $start_at
),
final as (
    select
        stage,
        count(*)::bigint as dwells,
        quantile_cont(dwell_h, 0.05) as p05_h,
        quantile_cont(dwell_h, 0.25) as p25_h,
        quantile_cont(dwell_h, 0.50) as median_h,
        quantile_cont(dwell_h, 0.75) as p75_h,
        quantile_cont(dwell_h, 0.95) as p95_h,
        avg(dwell_h) as mean_h,
        sum(dwell_h) as total_h,
        avg(position) as mean_position
    from dwells
    group by stage
)
select * from final
order by stage
