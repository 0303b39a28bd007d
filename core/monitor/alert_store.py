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
    """Insert or update alerts by id (keeping a status someone set); the alerts that are new."""
    alerts = list(alerts)
    if not alerts:
        return []
    with store.transaction(store_path) as con:
        return write_alerts(con, alerts, store.utcnow())


def write_alerts(
    con: duckdb.DuckDBPyConnection, alerts: Iterable[Alert], at: datetime, *, replace_day: date | None = None
) -> list[Alert]:
    """Insert or update alerts by id on `con`, inside the caller's transaction; the alerts that are new.
    With `replace_day`, that day's alerts not among these are deleted first (a re-run of the day)."""
    alerts = list({alert.alert_id: alert for alert in alerts}.values())
    ids = [alert.alert_id for alert in alerts]
    if replace_day is not None:
        con.execute(store.load_sql("daily_alerts_delete"), {"as_of": replace_day, "keep_ids": ids})
    if not alerts:
        return []
    known = set(con.execute(store.load_sql("monitor_alerts_known"), {"ids": ids}).df()["alert_id"])
    for alert in alerts:  # a day holds a handful of alerts, not data rows
        con.execute(
            store.load_sql("monitor_alerts_upsert"),
            {
                "alert_id": alert.alert_id,
                "as_of": alert.as_of,
                "rule": alert.rule,
                "severity": alert.severity,
                "subject": alert.subject,
                "message": alert.message,
                "status": alert.status,
                "value": alert.value,
                "threshold": alert.threshold,
                "at": at,
            },
        )
    return [alert for alert in alerts if alert.alert_id not in known]


def read_alerts(
    since: date | None = None,
    store_path: StorePath = None,
    status: str | None = None,
) -> pd.DataFrame:
    """Stored alerts, newest day first, most severe first within a day."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"alert status {status!r} is not one of {', '.join(STATUSES)}")
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
