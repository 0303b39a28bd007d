insert into ingested_files
with
final as (
    select
        sha256,
        path,
        kind,
        rows_loaded::bigint as rows_loaded,
        rows_quarantined::bigint as rows_quarantined,
        $loaded_at as loaded_at
    from ingest_file_rows
)
select * from final
