"""Who may do what: `roles` (the roles and their permissions, checked by the pages and by the
actions on the list) and `auth` (API tokens: created once, stored as hashes, verified in constant
time)."""
