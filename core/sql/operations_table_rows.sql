-- Grain: table of the store — its row count as DuckDB estimates it (exact after a checkpoint).
with
tables as (
    select
        table_name,
        estimated_size as estimated_rows,
        column_count
    from duckdb_tables()
    where schema_name = 'main'
),
final as (
    select * from tables
)
select * from final
order by estimated_rows desc, table_name
