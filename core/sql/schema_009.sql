-- API tokens: only a sha256 of each token is stored; the token itself is shown once, when it is created.
create table api_tokens (
    token_id      varchar primary key,   -- 'tok_' + 8 hex digits: what `token revoke` takes
    name          varchar,               -- who or what holds it, free text
    role          varchar not null,      -- reader | scorer | admin
    token_sha256  varchar not null unique,
    created_at    timestamp not null,
    revoked_at    timestamp              -- null while the token is valid
);
