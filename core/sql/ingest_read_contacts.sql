-- Parquet files whose columns already carry the contract's types, read by DuckDB straight into
-- the batch; their zoned timestamps become naive UTC, as the store keeps them.
insert into ingest_batch by name
with
files as (
    select
        unnest($paths) as filename,
        unnest($file_indexes) as file_index
),
final as (
    select
        f.file_index,
        p.file_row_number + 1 as row_number,
        p.contact_id,
        p.order_id,
        timezone('UTC', p.contact_at) as contact_at,
        false as contact_at_bad,
        p.reason
    from read_parquet($paths, filename = true, file_row_number = true) as p
    inner join files as f on f.filename = p.filename
)
select * from final
