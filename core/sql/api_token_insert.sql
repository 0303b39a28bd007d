insert into api_tokens (token_id, name, role, token_sha256, created_at, revoked_at)
values ($token_id, $name, $role, $token_sha256, $created_at, null)
