-- Rows read from the files of one batch (loaded + quarantined), selected like monitor_quarantine_batch.
with selected as (
    select
        rows_loaded,
        rows_quarantined
    from ingested_files
    where ($sources::varchar[] is null or list_contains($sources::varchar[], parse_filename(path)))
        and ($since::timestamp is null or loaded_at >= $since::timestamp)
        and ($until::timestamp is null or loaded_at < $until::timestamp)
),
final as (
    select
        count(*)::bigint as files,
        coalesce(sum(rows_loaded), 0)::bigint as rows_loaded,
        coalesce(sum(rows_quarantined), 0)::bigint as rows_quarantined
    from selected
)
select * from final
