-- Orders to load-test the forecast route with: those the latest scoring forecast, with their attributes.
with latest as (
    select max(as_of_at) as as_of_at
    from predictions
    where role = 'champion'
),

scored as (
    select distinct
        p.order_id,
        p.as_of_at
    from predictions as p
    inner join latest as l on l.as_of_at = p.as_of_at
    where p.role = 'champion'
),

final as (
    select
        s.as_of_at,
        o.*
    from scored as s
    inner join orders as o on o.order_id = s.order_id
    order by s.order_id
    limit $limit
)

select * from final
