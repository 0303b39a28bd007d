-- Who did what in the dashboard beyond the tables that keep their own actor (triage actions, the
-- model audit, assumptions, job runs): alert acknowledgements, list exports, API token revocations.
-- `actor` is the person as audit records name them: `e-mail (issuer|subject)` when signed in.
create table activity_log (
    activity_id  varchar not null primary key,
    acted_at     timestamp not null,
    actor        varchar not null,
    action       varchar not null,    -- acknowledge_alert, export_list, revoke_token
    subject      varchar not null,    -- the alert id, the exported list's day and format, the token id
    detail       varchar              -- free text: rows exported, the status set
);
