with final as (
    select
        as_of,
        model_version,
        "column",
        role,
        kind,
        method,
        score,
        threshold,
        drifted,
        missing_rate_ref,
        missing_rate_cur,
        missing_rate_jumped,
        new_categories,
        new_category_share,
        status,
        note,
        rows_ref,
        rows_cur,
        computed_at
    from drift_results
    where $since::date is null or as_of >= $since::date
)
select * from final
order by as_of, role, "column"
