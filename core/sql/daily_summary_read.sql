-- The daily record, oldest first (from $since when given).
with final as (
    select *
    from daily_summary
    where as_of_date >= coalesce($since, date '0001-01-01')
    order by as_of_date
)

select * from final
