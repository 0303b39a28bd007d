insert into validity_reasons
with final as (
    select
        $as_of::date as as_of,
        reason,
        rows_quarantined::bigint as rows_quarantined,
        share,
        examples::json as examples
    from validity_reason_rows
)
select * from final
