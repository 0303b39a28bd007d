-- Waiting per ISO week and stage: finished dwells (see insights_dwell_stats) grouped by the
-- Monday of the week the case entered the stage. Needs ins_sequenced.
with
dwells as (
    select
        stage,
        entered_at,
        date_diff('second', entered_at, left_at) / 3600.0 as dwell_h
    from ins_sequenced
    where left_at is not null
        and entered_at >= $start_at
),
final as (
    select
        date_trunc('week', entered_at)::date as week_start,
        strftime(entered_at, '%G-W%V') as iso_week,
        stage,
        count(*)::bigint as dwells,
        quantile_cont(dwell_h, 0.5) as median_h,
        sum(dwell_h) as total_h
    from dwells
    group by all
)
select * from final
order by week_start, stage
