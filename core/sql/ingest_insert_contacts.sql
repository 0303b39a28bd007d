insert into contacts
with
final as (
    select
        b.contact_id,
        b.order_id,
        b.contact_at,
        b.reason,
        $sources[b.file_index + 1] as source,
        $loaded_at as loaded_at
    from ingest_batch as b
    anti join ingest_checked as c on c.file_index = b.file_index and c.row_number = b.row_number
)
select * from final
