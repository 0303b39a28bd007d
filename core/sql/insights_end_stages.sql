-- Activities that end a case. The order world names its terminal stages ($terminal); an imported
-- log does not, so an activity outside the known stages ($known) counts as an end when it is the
-- last event of its case in at least $min_last_share of its occurrences (e.g. "Closed").
with
known_events as (
    select
        order_id,
        stage,
        event_ts,
        event_id
    from events
    where event_ts < $end_at
),
sequenced as (
    select
        stage,
        lead(event_ts) over (partition by order_id order by event_ts, event_id) is null as is_last
    from known_events
),
by_stage as (
    select
        stage,
        count(*)::bigint as occurrences,
        count(*) filter (where is_last)::bigint as last_occurrences
    from sequenced
    group by stage
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
