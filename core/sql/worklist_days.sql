-- The mornings that have a triage list, newest first.
with final as (
    select distinct as_of_date
    from triage_list
)

select * from final
order by as_of_date desc
