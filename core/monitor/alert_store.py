"""Alerts in the store: written idempotently by id (alone or inside the daily job's transaction, keeping a status
someone set), read, acknowledged; and the feed freshness the stale-feed rule reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from core import store
from core.config import StorePath
from core.errors import ConfigError
from core.monitor.alerts import STATUSES, Alert


def store_alerts(alerts: Iterable[Alert], store_path: StorePath = None) -> list[Alert]:
    """Record alerts as their days' evaluations and update the alert items (keeping a status someone
    set); the alerts that opened a new item."""
    alerts = list(alerts)
    if not alerts:
        return []
    with store.transaction(store_path) as con:
        return write_alerts(con, alerts, store.utcnow())


def write_alerts(
    con: duckdb.DuckDBPyConnection, alerts: Iterable[Alert], at: datetime, *, replace_day: date | None = None
) -> list[Alert]:
    """Record the alerts as their days' evaluations on `con`, inside the caller's transaction, and rebuild
    the alert items from every evaluation: one item per rule and subject over consecutive run days, resolved
    on the first run day that no longer raises it. With `replace_day` (a daily run), that day's evaluations
    are replaced and the day counts as a run day even if it raised nothing. The alerts that opened an item."""
    alerts = list({alert.alert_id: alert for alert in alerts}.values())
    if replace_day is not None:
        con.execute(store.load_sql("daily_alert_days_delete"), {"as_of": replace_day})
        con.execute(store.load_sql("monitor_alert_run_day_insert"), {"as_of": replace_day})
    for alert in alerts:  # a day holds a handful of alerts, not data rows
        con.execute(
            store.load_sql("monitor_alert_days_upsert"),
            {
                "as_of": alert.as_of,
                "rule": alert.rule,
                "subject": alert.subject,
                "severity": alert.severity,
                "message": alert.message,
                "value": alert.value,
                "threshold": alert.threshold,
            },
        )
    episode_rows = con.execute(store.load_sql("monitor_alert_episodes"), {}).df()
    ids = episode_rows["alert_id"].tolist()
    known = set(con.execute(store.load_sql("monitor_alerts_known"), {"ids": ids}).df()["alert_id"])
    con.execute(store.load_sql("daily_alerts_delete"), {"keep_ids": ids})
    if len(episode_rows):
        con.register("episode_rows", episode_rows)
        try:
            con.execute(store.load_sql("monitor_alerts_upsert"), {"at": at})
        finally:
            con.unregister("episode_rows")
    # An alert opened an item when the item's id is its own (the id hashes the opening day).
    return [alert for alert in alerts if alert.alert_id in set(ids) - known]


def read_alerts(
    since: date | None = None,
    store_path: StorePath = None,
    status: str | None = None,
) -> pd.DataFrame:
    """Stored alert items seen since `since`, newest opened first, most severe first within a day; a
    resolved item reads status `resolved`."""
    if status is not None and status not in (*STATUSES, "resolved"):
        raise ConfigError(f"alert status {status!r} is not one of {', '.join((*STATUSES, 'resolved'))}")
    return store.fetch_df("monitor_alerts_read", {"since": since, "status": status}, store_path)


def set_alert_status(alert_id: str, status: str, store_path: StorePath = None) -> None:
    """Acknowledge (or reopen) a stored alert."""
    if status not in STATUSES:
        raise ConfigError(f"alert status {status!r} is not one of {', '.join(STATUSES)}")
    with store.transaction(store_path) as con:
        found = con.execute(
            store.load_sql("monitor_alerts_set_status"), {"alert_id": alert_id, "status": status, "at": store.utcnow()}
        ).fetchall()
    if not found:
        raise ConfigError(f"no alert with id {alert_id}; list them with `python -m core alerts --json`")


def read_feed(as_of_at: datetime, store_path: StorePath = None) -> dict[str, Any]:
    """The `feed` input of the stale_feed rule: the newest event at or before `as_of_at`."""
    row = store.fetch_df("monitor_feed_freshness", {"as_of_at": as_of_at}, store_path).iloc[0]
    last = None if pd.isna(row["last_event_at"]) else pd.Timestamp(row["last_event_at"]).to_pydatetime()
    return {"last_event_at": last, "as_of_at": as_of_at}


def alert_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Stored alerts as JSON-ready dicts (dates as ISO text)."""
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    for record in records:
        for key in ("as_of",):
            if record.get(key):
                record[key] = str(record[key])[:10]
    return records
