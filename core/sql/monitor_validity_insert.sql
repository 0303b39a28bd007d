insert into validity_batches (
    as_of,
    rows_total,
    rows_quarantined,
    quarantined_share,
    computed_at
)
values ($as_of, $rows_total, $rows_quarantined, $quarantined_share, $computed_at)
