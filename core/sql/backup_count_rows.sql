-- Rows of one table, named by a bound parameter (query_table), never formatted into the SQL.
with
counted as (
    select count(*)::bigint as row_count
    from query_table($table_name)
),
final as (
    select * from counted
)
select * from final
