-- Go-live: the first day a model ETA was shown or a triage list was drawn (null: not live yet).
with first_model_eta as (
    select min(shown_from) as first_day
    from eta_shown
    where source = 'model'
),

first_list as (
    select min(as_of_date) as first_day
    from triage_list
),

final as (
    select
        least(
            coalesce(e.first_day, l.first_day),
            coalesce(l.first_day, e.first_day)
        ) as go_live_date
    from first_model_eta as e
    cross join first_list as l
)

select * from final
