-- Every event before $end_at with the instant its case left the stage (the case's next event) and
-- its position in the case: the base of every process-insights figure, sorted once per connection
-- (each figure re-sorting all the events was most of the page's time at a million orders).
create or replace temp table ins_sequenced as
select
    order_id,
    event_id,
    stage,
    event_ts as entered_at,
    lead(event_ts) over w as left_at,
    row_number() over w as position
from events
where event_ts < $end_at
window w as (partition by order_id order by event_ts, event_id)
