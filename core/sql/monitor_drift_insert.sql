insert into drift_results
with final as (
    select
        as_of::date as as_of,
        model_version::varchar as model_version,
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
        new_categories::varchar[] as new_categories,
        new_category_share,
        status,
        note,
        rows_ref::bigint as rows_ref,
        rows_cur::bigint as rows_cur,
        computed_at
    from drift_rows
)
select * from final
