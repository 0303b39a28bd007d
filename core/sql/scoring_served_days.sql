-- Mornings a forecaster version has served as champion before $as_of_date.
with final as (
    select count(distinct as_of_date)::bigint as days
    from predictions
    where forecaster_version = $version
      and role = 'champion'
      and as_of_date < $as_of_date
)

select * from final
