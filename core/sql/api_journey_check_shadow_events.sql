-- The stored events the contract checks may compare a posted journey with: only those of OTHER
-- orders that carry one of its event ids (the journey replaces its own order's stored events, as in
-- scoring). Few rows, so the ingestion's checks below run on them instead of the whole table.
create or replace temp table api_check_events as
select *
from events
where event_id in (select unnest($event_ids::varchar[]))
    and order_id <> $order_id
