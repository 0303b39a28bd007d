insert into triage_list
with final as (
    select
        as_of_date::date as as_of_date,
        order_id::varchar as order_id,
        rank::integer as rank,
        expected_cost::double as expected_cost,
        stuck_prob::double as stuck_prob,
        held_out::boolean as held_out,
        reasons::json as reasons,
        eta_p10_at::timestamp as eta_p10_at,
        eta_p50_at::timestamp as eta_p50_at,
        eta_p90_at::timestamp as eta_p90_at,
        created_at::timestamp as created_at
    from triage_rows
)

select * from final
