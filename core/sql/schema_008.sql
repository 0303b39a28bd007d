-- Benefit assumptions (money values) and targets, kept with their history: every save is a new
-- revision holding every field, so "the assumptions as they stood on date D" is one query.
create table assumptions_history (
    kind      varchar not null,   -- costs | targets
    revision  integer not null,   -- 1, 2, ... per kind
    name      varchar not null,   -- a field of CostAssumptions or BenefitTargets
    value     double,             -- null: no target set for this figure
    actor     varchar not null,
    reason    varchar not null,
    saved_at  timestamp not null
);
