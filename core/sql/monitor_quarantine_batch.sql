-- Quarantined rows of one batch: the files named in $sources (file names), or everything
-- quarantined in [$since, $until); a null bound is open.
with selected as (
    select
        source,
        row_number,
        record::varchar as record,
        reason,
        quarantined_at
    from quarantine
    where ($sources::varchar[] is null or list_contains($sources::varchar[], source))
        and ($since::timestamp is null or quarantined_at >= $since::timestamp)
        and ($until::timestamp is null or quarantined_at < $until::timestamp)
),
final as (
    select * from selected
)
select * from final
order by reason, source, row_number
