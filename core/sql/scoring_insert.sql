insert into predictions
with final as (
    select
        as_of_date::date as as_of_date,
        as_of_at::timestamp as as_of_at,
        order_id::varchar as order_id,
        role::varchar as role,
        forecaster_version::varchar as forecaster_version,
        classifier_version::varchar as classifier_version,
        current_stage::varchar as current_stage,
        elapsed_h::double as elapsed_h,
        p10_h::double as p10_h,
        p50_h::double as p50_h,
        p90_h::double as p90_h,
        eta_p10_at::timestamp as eta_p10_at,
        eta_p50_at::timestamp as eta_p50_at,
        eta_p90_at::timestamp as eta_p90_at,
        stuck_prob::double as stuck_prob,
        scored_at::timestamp as scored_at,
        model_p10_h::double as model_p10_h,
        model_p50_h::double as model_p50_h,
        model_p90_h::double as model_p90_h
    from prediction_rows
)

select * from final
