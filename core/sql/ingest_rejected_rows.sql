-- Rows of the checked batch that go to quarantine, with the file they came from.
with
final as (
    select
        file_index,
        row_number,
        reason
    from ingest_checked
    where reason is not null
)
select * from final
order by file_index, row_number
