-- The model ETAs customers see from $shown_from (what the simulated world is told that day).
with final as (
    select
        order_id,
        eta_at
    from eta_shown
    where shown_from = $shown_from
      and source = 'model'
)

select * from final
