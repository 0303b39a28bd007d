-- How the shown list moved since the day before: orders new on it and orders that left it.
with today_list as (
    select order_id
    from triage_list
    where as_of_date = $as_of_date
        and not held_out
),

yesterday_list as (
    select order_id
    from triage_list
    where as_of_date = $as_of_date::date - 1
        and not held_out
),

final as (
    select
        (select count(*) from today_list where order_id not in (select order_id from yesterday_list))::bigint
            as new_on_list,
        (select count(*) from yesterday_list where order_id not in (select order_id from today_list))::bigint
            as left_list
)

select * from final
