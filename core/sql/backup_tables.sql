-- The store's own tables (main schema), whose row counts a backup records and a restore checks.
with
own_tables as (
    select table_name
    from duckdb_tables()
    where database_name = current_database()
      and schema_name = 'main'
),
final as (
    select * from own_tables order by table_name
)
select * from final
