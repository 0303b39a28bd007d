-- Every token (hashes included: the caller decides what to show), oldest first.
with final as (
    select
        token_id,
        name,
        role,
        token_sha256,
        created_at,
        revoked_at
    from api_tokens
    where $only_active = false or revoked_at is null
)

select * from final
order by created_at, token_id
