-- One prefix per event: prefix k is the state right after the k-th event, as of that event's time.
-- Terminal events end a journey and are not prefixes of an open order.
create or replace temp table feat_prefixes as
with final as (
    select
        order_id,
        ordinal as prefix_len,
        event_ts as as_of_at
    from feat_events
    where ordinal >= $min_prefix_len
        and not is_terminal
)

select * from final
