-- The model versions a day was scored with, per role (a re-run of the day scores with the same ones).
with final as (
    select
        role,
        min(forecaster_version) as forecaster_version,
        min(classifier_version) as classifier_version
    from predictions
    where as_of_date = $as_of_date
    group by role
)

select * from final
