-- The champion pointer of every kind: cheap enough to read on a request to notice a promotion.
with final as (
    select
        kind,
        version_id
    from model_champions
)

select * from final
order by kind
