insert into quarantine
with
final as (
    select
        source,
        row_number,
        record::json as record,
        reason,
        $quarantined_at as quarantined_at
    from ingest_quarantine_rows
)
select * from final
