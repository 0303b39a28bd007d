-- The latest champion forecast of one order, with the reasons of that morning's triage list
-- (none when the order was held out: held-out rows are never shown).
with latest as (
    select *
    from predictions
    where order_id = $order_id
        and role = 'champion'
    order by as_of_at desc, scored_at desc
    limit 1
),

listed as (
    select
        t.as_of_date,
        t.order_id,
        t.reasons
    from triage_list as t
    inner join latest as l
        on l.order_id = t.order_id
        and l.as_of_date = t.as_of_date
    where not t.held_out
    limit 1
),

final as (
    select
        l.order_id,
        l.as_of_date,
        l.as_of_at,
        l.current_stage,
        l.elapsed_h,
        l.p10_h,
        l.p50_h,
        l.p90_h,
        l.eta_p10_at,
        l.eta_p50_at,
        l.eta_p90_at,
        l.stuck_prob,
        l.forecaster_version,
        l.classifier_version,
        l.scored_at,
        r.reasons::varchar as reasons
    from latest as l
    left join listed as r on r.order_id = l.order_id
)

select * from final
