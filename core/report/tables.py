"""The weekly report's tables, from one snapshot of the store and the same functions the dashboard pages and the CLI
use.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import config, domain, store
from core.config import StorePath
from core.errors import ConfigError, JourneyOpsError
from core.models.metrics import DEFAULT_TRIAGE_CAPACITY
from core.monitor import accuracy, alert_store, benefit_figures, benefits, drift_store, segments, validity
from core.report.contents import EmptyWeekError, IsoWeek, WeeklyReport, parse_week
from core.triage import worklist
from core.views import today


@contextmanager
def store_snapshot(store_path: StorePath = None) -> Iterator[Path]:
    """A private copy of the store (and its WAL), taken while a read-only connection holds the lock."""
    source = config.store_path(store_path)
    with tempfile.TemporaryDirectory(prefix="journeyops-report-") as folder:
        target = Path(folder) / source.name
        # A reader's lock keeps any writer (the daily job) out while the bytes are copied, so the
        # copy is one committed state; the report then reads only the copy.
        with store.connect(source, read_only=True):
            shutil.copyfile(source, target)
            wal = source.with_name(source.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        yield target


def _in_week(frame: pd.DataFrame, column: str, week: IsoWeek) -> pd.DataFrame:
    days = pd.to_datetime(frame[column]).dt.date
    return frame.loc[(days >= week.start) & (days <= week.end)].reset_index(drop=True)


def week_lists(week: IsoWeek, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: list morning × shown order — the week's at-risk lists as the At-risk page reads them
    (`worklist.read_worklist`: held-out rows never leave the store), with every action taken and its note."""
    days = sorted(d for d in worklist.list_days(store_path) if week.start <= d <= week.end)
    lists = [worklist.read_worklist(day, None, store_path).assign(as_of_date=pd.Timestamp(day)) for day in days]
    columns = [
        "as_of_date",
        "rank",
        "order_id",
        "stage",
        "carrier",
        "region",
        "channel",
        "order_value",
        "stuck_prob",
        "expected_cost_eur",
        "eta_p10_at",
        "eta_p50_at",
        "eta_p90_at",
        "reasons",
        "actions",
        "last_action",
        "last_action_by",
        "last_action_at",
        "action_history",
        "notes",
    ]
    if not lists:
        return pd.DataFrame(columns=columns)
    listed = pd.concat(lists, ignore_index=True).rename(columns={"expected_cost": "expected_cost_eur"})
    history = store.fetch_df("report_triage_actions", {"week_start": week.start, "week_end": week.end}, store_path)
    history["as_of_date"] = pd.to_datetime(history["as_of_date"])
    merged = listed.merge(history, on=["as_of_date", "order_id"], how="left")
    merged["actions"] = merged["actions"].fillna(0).astype("int64")
    return merged.sort_values(["as_of_date", "rank"], ignore_index=True)[columns]


def drift_by_column(drift_rows: pd.DataFrame) -> pd.DataFrame:
    """Grain: monitored column — days judged, days drifted, worst and mean score, missing-rate jumps,
    days with new categories, and its status on the last day of the week."""
    columns = [
        "column",
        "role",
        "kind",
        "method",
        "days",
        "days_drifted",
        "max_score",
        "mean_score",
        "threshold",
        "days_missing_rate_jumped",
        "days_new_categories",
        "max_new_category_share",
        "last_status",
        "last_note",
    ]
    if drift_rows.empty:
        return pd.DataFrame(columns=columns)
    work = drift_rows.sort_values(["as_of", "column"]).assign(
        is_drifted=lambda f: (f["status"] == "drifted").astype("int64"),
        has_new=lambda f: (f["new_category_share"] > 0).astype("int64"),
        jumped=lambda f: f["missing_rate_jumped"].astype("int64"),
    )
    summary = (
        work.groupby("column", sort=True)
        .agg(
            role=("role", "last"),
            kind=("kind", "last"),
            method=("method", "last"),
            days=("as_of", "nunique"),
            days_drifted=("is_drifted", "sum"),
            max_score=("score", "max"),
            mean_score=("score", "mean"),
            threshold=("threshold", "last"),
            days_missing_rate_jumped=("jumped", "sum"),
            days_new_categories=("has_new", "sum"),
            max_new_category_share=("new_category_share", "max"),
            last_status=("status", "last"),
            last_note=("note", "last"),
        )
        .reset_index()
    )
    return summary.sort_values(["days_drifted", "max_score"], ascending=False, ignore_index=True)[columns]


def _figure(rows: list[dict[str, Any]], section: str, name: str, value: Any, unit: str) -> None:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        value = None
    elif isinstance(value, np.integer | bool | np.bool_):
        value = int(value)
    elif isinstance(value, np.floating | float):
        value = float(value)
    rows.append({"section": section, "figure": name, "value": value, "unit": unit})


def build_summary(
    week: IsoWeek,
    as_of: datetime,
    activity: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    forecast_week: pd.DataFrame,
    listing_week: pd.DataFrame,
    k: int,
) -> pd.DataFrame:
    """Grain: headline figure — the week at a glance, each figure taken from the section tables."""
    rows: list[dict[str, Any]] = []
    _week_figures(rows, week, as_of, activity, tables["at_risk"])
    _accuracy_figures(rows, forecast_week, listing_week, k)
    _monitoring_figures(rows, tables)
    _benefit_figures(rows, week, tables["benefits"])
    return pd.DataFrame(rows, columns=["section", "figure", "value", "unit"])


def _week_figures(
    rows: list[dict[str, Any]],
    week: IsoWeek,
    as_of: datetime,
    activity: Mapping[str, Any],
    lists: pd.DataFrame,
) -> None:
    _figure(rows, "week", "iso_week", week.label, "")
    _figure(rows, "week", "from", week.start.isoformat(), "Monday")
    _figure(rows, "week", "to", week.end.isoformat(), "Sunday")
    _figure(rows, "week", "outcomes_judged_at", as_of.isoformat(sep=" "), "UTC")
    _figure(rows, "activity", "orders_placed", activity["orders_placed"], "orders")
    _figure(rows, "activity", "events", activity["events"], "events")
    _figure(rows, "activity", "deliveries", activity["deliveries"], "orders")
    _figure(rows, "at-risk", "list_mornings", activity["list_days"], "days")
    _figure(rows, "at-risk", "orders_shown", len(lists), "listings (held-out rows are never shown)")
    _figure(rows, "at-risk", "orders_held_out", activity["listed_held_out"], "listings")
    _figure(rows, "at-risk", "listings_acted_on", int((lists["actions"] > 0).sum()), "listings")
    _figure(rows, "at-risk", "actions_taken", int(lists["actions"].sum()), "actions")


def _accuracy_figures(
    rows: list[dict[str, Any]], forecast_week: pd.DataFrame, listing_week: pd.DataFrame, k: int
) -> None:
    realised = accuracy.realised_row(forecast_week)
    for name in accuracy.FORECAST_METRICS:
        unit = "forecasts" if name == "forecasts" else name.rsplit("_", 1)[-1]
        _figure(rows, "forecast accuracy (realised)", name, realised.get(name), unit)
    estimated = forecast_week.loc[forecast_week["estimated"].astype(bool), "forecasts"] if len(forecast_week) else []
    _figure(
        rows,
        "forecast accuracy (estimated)",
        "forecasts",
        int(sum(estimated)),
        "forecasts not matured yet",
    )
    listed = accuracy.realised_row(listing_week)
    _figure(
        rows,
        "triage precision (realised)",
        "listed",
        listed.get("listed"),
        "listings, shown and held out",
    )
    _figure(
        rows,
        "triage precision (realised)",
        f"precision_at_{k}_pct",
        listed.get("precision_at_k_pct"),
        "pct",
    )
    _figure(rows, "triage precision (realised)", "lead_time_h", listed.get("lead_time_h"), "h")


def _monitoring_figures(rows: list[dict[str, Any]], tables: Mapping[str, pd.DataFrame]) -> None:
    drift_cols = tables["drift"]
    _figure(rows, "drift", "columns_monitored", len(drift_cols), "columns")
    _figure(
        rows,
        "drift",
        "columns_drifted_any_day",
        int((drift_cols["days_drifted"] > 0).sum()),
        "columns",
    )
    quality = tables["data_quality"].drop_duplicates("as_of")
    _figure(rows, "data quality", "rows_checked", int(quality["rows_total"].sum()), "rows")
    _figure(
        rows,
        "data quality",
        "rows_quarantined",
        int(quality["batch_rows_quarantined"].sum()),
        "rows",
    )
    alert_rows = tables["alerts"]
    _figure(rows, "alerts", "alerts", len(alert_rows), "alerts")
    _figure(rows, "alerts", "critical", int((alert_rows["severity"] == "critical").sum()), "alerts")
    _figure(rows, "alerts", "open", int((alert_rows["status"] == "open").sum()), "alerts")


_SUMMARY_BENEFITS: tuple[str, ...] = (
    "contacts_per_1000_orders",
    "sla_breach_pct",
    "stuck_caught_early_pct",
    "triage_value_eur",
    "total_value_eur",
)


def _benefit_figures(rows: list[dict[str, Any]], week: IsoWeek, ledger: pd.DataFrame) -> None:
    this_week = ledger.loc[ledger["iso_week"] == week.label].set_index("metric")
    period = this_week["period"].iloc[0] if len(this_week) else None
    _figure(rows, "benefits", "period", period, "baseline, warm_up or live")
    for metric in _SUMMARY_BENEFITS:
        row = this_week.loc[metric] if metric in this_week.index else None
        unit = benefits.LEDGER_METRICS[metric]
        _figure(rows, "benefits", metric, None if row is None else row["value"], unit)
        if row is not None and metric in benefit_figures.MONEY_METRICS:
            # the same interval and word as the Benefits page and `benefits --json` (benefit_figures)
            money = benefit_figures.money_figure(
                metric, row["value_eur"], row["value_ci_low_eur"], row["value_ci_high_eur"]
            )
            _figure(rows, "benefits", f"{metric}_ci_low", money.ci_low_eur, f"{unit}, bootstrap 95% interval")
            _figure(rows, "benefits", f"{metric}_ci_high", money.ci_high_eur, f"{unit}, bootstrap 95% interval")
            _figure(rows, "benefits", f"{metric}_significance", money.significance, "whether the interval excludes 0")
        if row is not None and not pd.isna(row["target"]):
            _figure(rows, "benefits", f"{metric}_target", row["target"], unit)


def build_weekly_report(
    week: IsoWeek | str,
    store_path: StorePath = None,
    *,
    k: int = DEFAULT_TRIAGE_CAPACITY,
    n_boot: int = 1000,
    progress: bool = False,
) -> WeeklyReport:
    """Every table of the week's report, from one snapshot of the store and the dashboard's functions."""
    from tqdm import tqdm

    week = parse_week(week) if isinstance(week, str) else week
    if k < 1:
        raise ConfigError(f"k must be at least 1 (orders the triage team works a day), got {k}")
    steps = ["snapshot", "accuracy", "lists", "segments", "monitoring", "benefits", "summary"]
    bar = tqdm(
        total=len(steps),
        desc=f"report {week.label}",
        unit="step",
        disable=not progress,
        leave=False,
    )
    try:
        with store_snapshot(store_path) as snap:
            bar.update()
            report = _build(week, snap, config.store_path(store_path), k, n_boot, bar)
    finally:
        bar.close()
    return report


def _build(week: IsoWeek, snap: Path, source: Path, k: int, n_boot: int, bar: Any) -> WeeklyReport:
    activity = _week_activity(week, snap, source)
    as_of = _judged_at(week, activity)
    bar.set_postfix_str("accuracy")
    forecasts = accuracy.load_forecast_outcomes(snap, as_of=as_of, since=week.start)
    listings = accuracy.load_listing_outcomes(snap, as_of=as_of, since=week.start)
    tables: dict[str, pd.DataFrame] = {}
    tables["forecast_accuracy"] = accuracy.summarise_forecasts(forecasts, by=["as_of_date"])
    tables["triage_precision"] = accuracy.summarise_listings(listings, k=k, by=["as_of_date"])
    forecast_week = accuracy.summarise_forecasts(forecasts)
    listing_week = accuracy.summarise_listings(listings, k=k)
    bar.update()
    tables["at_risk"] = week_lists(week, snap)
    bar.update()
    tables["segments"] = segments.segment_metrics(forecasts, listings)
    bar.update()
    tables["drift"] = drift_by_column(_in_week(drift_store.read_drift(week.start, snap), "as_of", week))
    tables["data_quality"] = _in_week(validity.read_validity(week.start, snap), "as_of", week)
    tables["alerts"] = _in_week(alert_store.read_alerts(week.start, snap), "as_of", week)
    tables["daily"] = _in_week(today.read_daily_summary(week.start, snap), "as_of_date", week)
    bar.update()
    ledger = benefits.benefit_ledger(snap, as_of=as_of, n_boot=n_boot)
    tables["benefits"] = ledger.loc[pd.to_datetime(ledger["week_start"]).dt.date <= week.start].reset_index(drop=True)
    bar.update()
    summary = build_summary(week, as_of, activity, tables, forecast_week, listing_week, k)
    tables["summary"] = summary
    bar.update()
    figures = {f"{r['section']}.{r['figure']}": r["value"] for r in summary.to_dict("records")}
    return WeeklyReport(week, as_of, store.utcnow(), tables, figures)


def _week_activity(week: IsoWeek, snap: Path, source: Path) -> dict[str, Any]:
    """The week's activity counts; EmptyWeekError when the store holds nothing for it."""
    params = {"week_start": week.start, "week_end": week.end, "delivered_stage": domain.TERMINAL[0]}
    try:
        activity = store.fetch_df("report_week_activity", params, snap).iloc[0].to_dict()
    except duckdb.CatalogException as exc:  # a store from before the daily tables, never migrated read-only
        raise JourneyOpsError(
            f"the store {source} has no daily tables yet (an older schema); run the daily job once to migrate it"
        ) from exc
    if activity["events"] == 0 and activity["list_days"] == 0:
        last = activity["last_event_at"]
        span = "the store holds no events" if pd.isna(last) else f"the last event is at {pd.Timestamp(last)}"
        raise EmptyWeekError(
            f"no data for week {week.label} ({week.start} to {week.end}): {span}; pick a week with events"
        )
    return activity


def _judged_at(week: IsoWeek, activity: Mapping[str, Any]) -> datetime:
    """When the week's outcomes are judged: the end of the week, or the newest data when the week is
    not over yet (the last event, or the last scoring instant when later, so that day's forecasts count)."""
    newest = max(pd.Timestamp(t) for t in (activity["last_event_at"], activity["last_scored_at"]) if not pd.isna(t))
    return min(week.end_at, newest.to_pydatetime())
