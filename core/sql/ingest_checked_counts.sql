-- Per file of the checked batch: rows quarantined and rows skipped as already known.
with
final as (
    select
        file_index,
        count(*) filter (where reason is not null)::bigint as rows_quarantined,
        count(*) filter (where is_duplicate)::bigint as rows_duplicate
    from ingest_checked
    group by file_index
)
select * from final
order by file_index
