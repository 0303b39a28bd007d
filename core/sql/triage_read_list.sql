-- The list of one morning as triage sees it: held-out rows only when asked for (they are never shown).
with listed as (
    select
        t.as_of_date,
        t.rank,
        t.order_id,
        t.expected_cost,
        t.stuck_prob,
        t.held_out,
        t.reasons,
        t.eta_p10_at,
        t.eta_p50_at,
        t.eta_p90_at,
        p.current_stage,
        p.elapsed_h
    from triage_list as t
    left join predictions as p
        on p.as_of_date = t.as_of_date
        and p.order_id = t.order_id
        and p.role = 'champion'
    where t.as_of_date = $as_of_date
      and (not t.held_out or $include_held_out)
),

final as (
    select *
    from listed
    order by rank
)

select * from final
