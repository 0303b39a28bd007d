-- The newest day with a triage list on or before $as_of_date (null when there is none).
with final as (
    select max(as_of_date) as as_of_date
    from triage_list
    where as_of_date <= coalesce($as_of_date, date '9999-12-31')
)

select * from final
