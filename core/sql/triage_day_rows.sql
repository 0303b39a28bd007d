-- Every row of one day's triage list (held-out orders included), in rank order: what the day wrote.
select
    as_of_date,
    order_id,
    rank,
    expected_cost,
    stuck_prob,
    held_out,
    reasons::varchar as reasons,
    eta_p10_at,
    eta_p50_at,
    eta_p90_at,
    created_at
from triage_list
where as_of_date = $as_of_date
order by rank
