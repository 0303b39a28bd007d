-- Activities that end a case. The order world names its terminal stages ($terminal); an imported
-- log does not, so an activity outside the known stages ($known) counts as an end when it is the
-- last event of its case in at least $min_last_share of its occurrences (e.g. "Closed").
-- Needs ins_sequenced and ins_cases.
with
last_events as (
    select
        order_id,
        last_stage as stage
    from ins_cases
),
occurrences as (
    select
        stage,
        count(*)::bigint as occurrences
    from ins_sequenced
    group by stage
),
last_occurrences as (
    select
        stage,
        count(*)::bigint as last_occurrences
    from last_events
    group by stage
),
by_stage as (
    select
        occurrences.stage,
        occurrences.occurrences,
        coalesce(last_occurrences.last_occurrences, 0)::bigint as last_occurrences
    from occurrences
    left join last_occurrences
        on occurrences.stage = last_occurrences.stage
),
final as (
    select
        stage,
        occurrences,
        last_occurrences
    from by_stage
    where list_contains($terminal, stage)
        or (
            not list_contains($known, stage)
            and last_occurrences >= $min_last_share * occurrences
        )
)
select * from final
order by stage
