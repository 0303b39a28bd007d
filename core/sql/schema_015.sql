-- How each e-mail of a morning's at-risk list went (`list-mail`, or the daily run when recipients are
-- configured): never the addresses or the SMTP credentials, only how many were sent to and the outcome.
create table list_mail_deliveries (
    delivered_at  timestamp not null,
    as_of_date    date not null,       -- the morning whose list was sent
    trigger       varchar not null,    -- cli, daily
    recipients    integer not null,    -- addresses the message was addressed to
    refused       integer not null,    -- of them, refused by the server
    orders        integer not null,    -- rows of the attached list
    ok            boolean not null,
    attempts      integer not null,
    error         varchar
);
