"""Model versions and their promotion: `versions` (the registry tables, champion, rollback and audit
log), `gate` (the promotion quality gate) and `artifacts` (skops save/load against our allow-list of
types)."""
