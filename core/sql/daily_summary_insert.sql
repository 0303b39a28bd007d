insert into daily_summary
with final as (
    select
        as_of_date::date as as_of_date,
        as_of_at::timestamp as as_of_at,
        forecaster_version::varchar as forecaster_version,
        classifier_version::varchar as classifier_version,
        challenger_forecaster_version::varchar as challenger_forecaster_version,
        challenger_classifier_version::varchar as challenger_classifier_version,
        eta_source::varchar as eta_source,
        eta_quantile::double as eta_quantile,
        open_orders::bigint as open_orders,
        listed::bigint as listed,
        held_out::bigint as held_out,
        sim_actions::bigint as sim_actions,
        drift_share::double as drift_share,
        alerts::bigint as alerts,
        retrain_reason::varchar as retrain_reason,
        figures::json as figures,
        computed_at::timestamp as computed_at
    from summary_rows
)

select * from final
