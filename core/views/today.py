"""Today: the morning's figures in one place — open orders, the list, alerts, freshness, the champion
and its recent accuracy, and what moved since the day before. The Today page shows exactly these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from core import store
from core.config import StorePath
from core.domain import end_of_day
from core.monitor import accuracy, alert_store, alerts

ACCURACY_WINDOW_DAYS = 7


@dataclass(frozen=True)
class TodayFigures:
    """The figures of one morning (the as-of day) and their change since the day before."""

    as_of_date: date
    open_orders: int  # from the events: first event before the day's end, no delivery/cancel by then
    on_list: int
    held_out: int
    list_expected_cost: float
    alerts_raised: int
    critical_raised: int
    alerts_open: int
    actions: int
    last_event_at: datetime | None
    freshness_h: float | None  # hours between the newest event and the end of the as-of day
    events_last_day: int
    forecaster_version: str | None
    classifier_version: str | None
    eta_source: str | None
    matured_forecasts: int
    mae_h: float | None  # champion p50 absolute error over the last ACCURACY_WINDOW_DAYS mornings
    coverage_pct: float | None  # share of those delivered inside [p10, p90]
    open_orders_change: int | None  # None when the day before had no run
    on_list_change: int | None
    alerts_open_change: int
    new_on_list: int
    left_list: int
    champion_changed: bool


def read_daily_summary(since: date | None = None, store_path: StorePath = None) -> pd.DataFrame:
    """The daily record (one row per as-of day), oldest first."""
    return store.fetch_df("daily_summary_read", {"since": since}, store_path)


def run_days(store_path: StorePath = None) -> list[date]:
    """The days the daily job has run for, newest first (empty before the first run)."""
    days = store.fetch_df("today_days", {}, store_path)
    return [pd.Timestamp(d).date() for d in days["as_of_date"]]


def _none(value: object) -> object:
    return None if value is None or pd.isna(value) else value


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def recent_accuracy(day: date, store_path: StorePath = None) -> dict[str, object]:
    """The champion's realised figures over the last ACCURACY_WINDOW_DAYS mornings, judged at the end
    of `day`: the Forecast accuracy page's own function (`accuracy.accuracy_overview`), so both pages
    show the same number for the same window."""
    overview = accuracy.accuracy_overview(
        store_path, as_of=end_of_day(day), since=day - timedelta(days=ACCURACY_WINDOW_DAYS - 1)
    )
    forecast = overview["forecast"]
    return dict(forecast.get("realised") or {}) if isinstance(forecast, dict) else {}


def load_today(as_of: date | None = None, store_path: StorePath = None) -> TodayFigures | None:
    """Today's figures for `as_of` (default: the latest run day); None when the daily job never ran."""
    days = run_days(store_path)
    if not days:
        return None
    day = as_of or days[0]
    as_of_at = end_of_day(day)
    figures = store.fetch_df("today_figures", {"as_of_date": day}, store_path)
    today, yesterday = figures.iloc[0], figures.iloc[1]
    changes = store.fetch_df("today_list_changes", {"as_of_date": day}, store_path).iloc[0]
    fresh = store.fetch_df("today_freshness", {"as_of_at": as_of_at}, store_path).iloc[0]
    accuracy = recent_accuracy(day, store_path)
    last_event_at = _none(fresh["last_event_at"])
    had_yesterday = bool(yesterday["has_run"])
    return TodayFigures(
        as_of_date=day,
        open_orders=int(today["open_orders"]),
        on_list=int(today["on_list"]),
        held_out=int(today["held_out"]),
        list_expected_cost=float(today["list_expected_cost"]),
        alerts_raised=int(today["alerts_raised"]),
        critical_raised=int(today["critical_raised"]),
        alerts_open=int(today["alerts_open"]),
        actions=int(today["actions"]),
        last_event_at=None if last_event_at is None else pd.Timestamp(last_event_at).to_pydatetime(),
        freshness_h=None
        if last_event_at is None
        else (as_of_at - pd.Timestamp(last_event_at).to_pydatetime()).total_seconds() / 3600,
        events_last_day=int(fresh["events_last_day"]),
        forecaster_version=_none(today["forecaster_version"]),  # type: ignore[arg-type]
        classifier_version=_none(today["classifier_version"]),  # type: ignore[arg-type]
        eta_source=_none(today["eta_source"]),  # type: ignore[arg-type]
        matured_forecasts=int(accuracy.get("forecasts") or 0),  # type: ignore[call-overload]
        mae_h=_float(accuracy.get("mae_h")),
        coverage_pct=_float(accuracy.get("coverage_80_pct")),
        open_orders_change=int(today["open_orders"] - yesterday["open_orders"]) if had_yesterday else None,
        on_list_change=int(today["on_list"] - yesterday["on_list"]) if had_yesterday else None,
        alerts_open_change=int(today["alerts_open"] - yesterday["alerts_open"]),
        new_on_list=int(changes["new_on_list"]),
        left_list=int(changes["left_list"]),
        champion_changed=had_yesterday and _none(today["forecaster_version"]) != _none(yesterday["forecaster_version"]),
    )


def column_alerts(day: date, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: alert about one compared column that a run raised or still saw on `day` (its subject is
    the column) — severity, rule, column and message, most severe first."""
    items = alert_store.read_alerts(day, store_path)
    first = pd.to_datetime(items["as_of"]).dt.date
    last = pd.to_datetime(items["last_seen_on"].fillna(items["as_of"])).dt.date
    seen = items.loc[items["rule"].isin(alerts.COLUMN_RULES) & (first <= day) & (last >= day)]
    columns = ["severity", "rule", "subject", "message"]
    return seen[columns].rename(columns={"subject": "column"}).reset_index(drop=True)
