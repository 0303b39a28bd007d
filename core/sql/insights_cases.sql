-- One row per case known by the end of the window (from ins_sequenced): its last activity, first and
-- last event, and its events inside the window [$start_at, ...).
create or replace temp table ins_cases as
select
    order_id,
    arg_max(stage, position) as last_stage,
    min(entered_at) as started_at,
    max(entered_at) as ended_at,
    count(*) filter (where entered_at >= $start_at)::bigint as events_in_window
from ins_sequenced
group by order_id
