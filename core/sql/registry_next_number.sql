with
final as (
    select coalesce(max(version_number), 0)::integer + 1 as next_number
    from model_versions
    where kind = $kind
)
select * from final
