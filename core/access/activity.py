"""The dashboard's activity log: who acknowledged an alert, exported a list or revoked an API token.

Triage actions, promotions, rollbacks, retrains and assumption changes keep their actor in their own
tables; these actions change nothing else worth a table, so they are recorded here, each with the
actor as audit records name people (`roles.User.actor`).
"""

from __future__ import annotations

import secrets
from datetime import datetime

import duckdb
import pandas as pd

from core import store
from core.access import roles
from core.config import StorePath
from core.errors import ConfigError

ACTIONS: tuple[str, ...] = ("acknowledge_alert", "export_list", "revoke_token")
COLUMNS: list[str] = ["activity_id", "acted_at", "actor", "action", "subject", "detail"]


def record_activity(
    user: roles.User,
    action: str,
    subject: str,
    detail: str | None = None,
    store_path: StorePath = None,
    *,
    now: datetime | None = None,
) -> str:
    """Record that `user` took `action` on `subject`; returns the new record's id."""
    if action not in ACTIONS:
        raise ConfigError(f"unknown activity {action!r}; use one of {', '.join(ACTIONS)}")
    activity_id = "act_" + secrets.token_hex(8)
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("activity_insert"),
            {
                "activity_id": activity_id,
                "acted_at": now or store.utcnow(),
                "actor": user.actor,
                "action": action,
                "subject": subject,
                "detail": detail,
            },
        )
    return activity_id


def read_activity(action: str | None = None, store_path: StorePath = None, limit: int = 200) -> pd.DataFrame:
    """Grain: one dashboard action — the newest `limit`, optionally of one action."""
    try:
        return store.fetch_df("activity_read", {"action": action, "limit": limit}, store_path)
    except duckdb.CatalogException:
        # A store older than the activity log has none yet; the next write adds the table.
        return pd.DataFrame(columns=COLUMNS)
