-- The mornings the daily job has run for, newest first.
with final as (
    select distinct as_of_date
    from daily_summary
)

select * from final
order by as_of_date desc
