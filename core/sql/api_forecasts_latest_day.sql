-- Every champion forecast of the latest scored morning, with that morning's triage reasons (none for
-- held-out orders): the rows the API keeps in memory until the store changes.
with latest_day as (
    select max(as_of_date) as as_of_date
    from predictions
    where role = 'champion'
),

day_rows as (
    select p.*
    from predictions as p
    inner join latest_day as d on d.as_of_date = p.as_of_date
    where p.role = 'champion'
    qualify row_number() over (partition by p.order_id order by p.as_of_at desc, p.scored_at desc) = 1
),

listed as (
    select
        t.order_id,
        any_value(t.reasons) as reasons
    from triage_list as t
    inner join latest_day as d on d.as_of_date = t.as_of_date
    where not t.held_out
    group by t.order_id
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
    from day_rows as l
    left join listed as r on r.order_id = l.order_id
)

select * from final
