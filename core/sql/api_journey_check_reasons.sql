-- Why rows of a checked posted journey would be quarantined, in the order they were posted.
with final as (
    select
        row_number,
        reason
    from ingest_checked
    where reason is not null
)

select * from final
order by row_number, reason
