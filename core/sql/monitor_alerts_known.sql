with final as (
    select alert_id
    from alerts
    where list_contains($ids::varchar[], alert_id)
)
select * from final
