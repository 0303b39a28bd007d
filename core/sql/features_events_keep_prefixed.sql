-- Past the load levels, the per-prefix queries read only the events of orders that have a prefix:
-- the rest of the visible history (most of it at scale: ended orders) is let go before they run.
create or replace temp table feat_events_kept as
select e.*
from feat_events as e
semi join (select distinct order_id from feat_prefixes) as p
    on p.order_id = e.order_id;

drop table feat_events;

alter table feat_events_kept rename to feat_events;
