-- Prefixes for scoring: every order open at one instant $at, with the events it had by then.
create or replace temp table feat_prefixes as
with journeys as (
    select
        order_id,
        max(ordinal) as prefix_len,
        bool_or(is_terminal) as has_ended
    from feat_events
    group by order_id
),

final as (
    select
        order_id,
        prefix_len,
        $at::timestamp as as_of_at
    from journeys
    where not has_ended
)

select * from final
