-- The champion's stored predictions of one morning: the prediction columns the day's drift compared.
with final as (
    select
        order_id,
        p50_h,
        stuck_prob
    from predictions
    where as_of_date = $as_of_date
        and role = 'champion'
)

select * from final
order by order_id
