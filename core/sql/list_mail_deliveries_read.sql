-- The e-mails of the at-risk list, newest first.
with
deliveries as (
    select * from list_mail_deliveries
),

final as (
    select
        delivered_at,
        as_of_date,
        trigger,
        recipients,
        refused,
        orders,
        ok,
        attempts,
        error
    from deliveries
)

select * from final
order by delivered_at desc
limit $limit
