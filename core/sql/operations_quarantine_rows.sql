-- Quarantined rows with their reason, newest load first (capped: a page shows a sample).
with
rows as (
    select
        source,
        row_number,
        reason,
        record::varchar as record,
        quarantined_at
    from quarantine
    where $since::timestamp is null or quarantined_at >= $since::timestamp
),
final as (
    select * from rows
    order by quarantined_at desc, source, row_number
    limit $limit
)
select * from final
