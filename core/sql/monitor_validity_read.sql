with reasons as (
    select
        as_of,
        reason,
        rows_quarantined,
        share,
        examples::varchar as examples
    from validity_reasons
),
final as (
    select
        b.as_of,
        b.rows_total,
        b.rows_quarantined as batch_rows_quarantined,
        b.quarantined_share,
        r.reason,
        r.rows_quarantined,
        r.share,
        r.examples
    from validity_batches as b
    left join reasons as r on r.as_of = b.as_of
    where $since::date is null or b.as_of >= $since::date
)
select * from final
order by as_of, rows_quarantined desc nulls last, reason
