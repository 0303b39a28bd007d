"""The stored side of the serving API: an order's latest forecast (cached in memory between writes), the day's at-risk
list with its reasons, and the readiness check.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import duckdb

from core import config, store
from core.config import StorePath
from core.errors import JourneyOpsError
from core.scoring.serving import ServingUnavailableError, plain_value


def _reasons(text: Any) -> list[dict[str, Any]]:
    """The reasons JSON of a triage row as a list of objects (anything else is dropped)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [r for r in value if isinstance(r, dict)]


def _fetch_records(sql_name: str, params: Mapping[str, Any], store_path: StorePath) -> list[dict[str, Any]]:
    try:
        frame = store.fetch_df(sql_name, params, store_path)
    except duckdb.CatalogException as exc:
        raise ServingUnavailableError(
            "the store has no forecasts yet (its schema predates them); run the daily job first"
        ) from exc
    rows = [{k: plain_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    for row in rows:
        # DuckDB dates arrive as midnight timestamps through pandas.
        if isinstance(row.get("as_of_date"), datetime):
            row["as_of_date"] = row["as_of_date"].date()
    return rows


def read_forecast(order_id: str, store_path: StorePath = None) -> dict[str, Any] | None:
    """The latest champion forecast of an order (with its triage reasons unless held out), or None."""
    rows = _fetch_records("api_forecast", {"order_id": order_id}, store_path)
    if not rows:
        return None
    row = rows[0]
    row["reasons"] = _reasons(row.get("reasons"))
    return row


def store_fingerprint(store_path: StorePath = None) -> tuple[tuple[int, int] | None, ...]:
    """(mtime, size) of the store file and its WAL: any committed write changes one of them."""
    path = config.store_path(store_path)
    found: list[tuple[int, int] | None] = []
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            stat = file.stat()
        except FileNotFoundError:
            found.append(None)
            continue
        found.append((stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class ForecastCache:
    """The latest morning's forecasts in memory, reloaded when the store's files change (looked at
    most every `check_every_s`): a forecast request then opens no database file, which is most of
    its cost. Orders not scored that morning are read from the store.

    With `background`, a reload runs in its own thread and requests keep the rows they have meanwhile,
    so a daily job holding the write lock delays the new rows, never the answers.
    """

    def __init__(
        self,
        store_path: StorePath = None,
        check_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        background: bool = False,
    ) -> None:
        self.store_path = store_path
        self.check_every_s = check_every_s
        self.clock = clock
        self.background = background
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, Any]] | None = None
        self._fingerprint: tuple[tuple[int, int] | None, ...] | None = None
        self._checked_at = -math.inf
        self._loading = False

    def _load(self, fingerprint: tuple[tuple[int, int] | None, ...]) -> None:
        try:
            rows = _fetch_records("api_forecasts_latest_day", {}, self.store_path)
            for row in rows:
                row["reasons"] = _reasons(row.get("reasons"))
            with self._lock:
                self._rows = {row["order_id"]: row for row in rows}
                self._fingerprint = fingerprint
        finally:
            with self._lock:
                self._loading = False

    def _load_quietly(self, fingerprint: tuple[tuple[int, int] | None, ...]) -> None:
        try:
            self._load(fingerprint)
        except (JourneyOpsError, duckdb.Error):
            pass  # busy or not ready: the rows read before serve on, and the next check tries again

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The latest champion forecast of an order (as `read_forecast`), or None."""
        load = None
        with self._lock:
            now = self.clock()
            if now - self._checked_at >= self.check_every_s and not self._loading:
                self._checked_at = now
                # Fingerprint first: a write landing during the read is seen on the next check.
                fingerprint = store_fingerprint(self.store_path)
                if fingerprint != self._fingerprint:
                    self._loading = True
                    load = fingerprint
            rows = self._rows
        if load is not None:
            if self.background and rows is not None:
                threading.Thread(target=self._load_quietly, args=(load,), name="forecast-reload", daemon=True).start()
            else:
                self._load(load)
                with self._lock:
                    rows = self._rows
        row = rows.get(order_id) if rows is not None else None
        if row is not None:
            return {**row, "reasons": list(row["reasons"])}
        return read_forecast(order_id, self.store_path)


def read_at_risk(
    store_path: StorePath = None,
    *,
    as_of_date: date | None = None,
    limit: int = 50,
    min_stuck_prob: float = 0.0,
    warehouse: str | None = None,
    carrier: str | None = None,
    region: str | None = None,
) -> list[dict[str, Any]]:
    """One morning's at-risk list (default: the latest), ranked, held-out orders never included."""
    rows = _fetch_records(
        "api_at_risk",
        {
            "as_of_date": as_of_date,
            "limit": int(limit),
            "min_stuck_prob": float(min_stuck_prob),
            "warehouse": warehouse,
            "carrier": carrier,
            "region": region,
        },
        store_path,
    )
    for row in rows:
        row["reasons"] = _reasons(row.get("reasons"))
    return rows


def check_ready(store_path: StorePath = None) -> dict[str, int]:
    """Counts that show the store can be read by the API (StoreMissing/StoreBusy/Unavailable if not)."""
    rows = _fetch_records("api_ready", {}, store_path)
    return {k: int(v) for k, v in rows[0].items()}
