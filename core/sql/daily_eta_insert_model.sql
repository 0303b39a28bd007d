insert into eta_shown
with final as (
    select
        order_id::varchar as order_id,
        shown_from::date as shown_from,
        eta_at::timestamp as eta_at,
        'model' as source,
        version::varchar as version
    from eta_rows
)

select * from final
