"""The weekly report: one ISO week of the store as an Excel workbook and a self-contained HTML page.

Every table comes from the same `core` functions the dashboard pages and the CLI use (accuracy,
segments, benefits, drift, validity, alerts, the triage list), run on ONE snapshot of the store: the
file is copied while a read-only connection holds the lock (so no daily run can write mid-copy), and
everything is read from the copy. Outcomes are judged at the end of the week (Sunday's scoring
instant), or at the newest data when the week is not over yet, so a past week's report reads the
same whenever it is written.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import config, domain, store
from core.config import StorePath
from core.errors import ConfigError, JourneyOpsError
from core.models.metrics import DEFAULT_TRIAGE_CAPACITY
from core.monitor import accuracy, alerts, benefits, drift, segments, validity
from core.triage import export, worklist
from core.views import today

# section key -> title: the sheet name in the workbook and the heading in the HTML, in this order
SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "at_risk": "At-risk lists",
    "forecast_accuracy": "Forecast accuracy",
    "triage_precision": "Triage precision",
    "segments": "Segments",
    "drift": "Drift",
    "data_quality": "Data quality",
    "alerts": "Alerts",
    "benefits": "Benefits",
}
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MAX_WIDTH = 60


class EmptyWeekError(JourneyOpsError):
    """The store holds nothing for the week asked for."""


@dataclass(frozen=True)
class IsoWeek:
    """An ISO week: its label (YYYY-Www) and its Monday and Sunday."""

    label: str
    start: date
    end: date

    @property
    def end_at(self) -> datetime:
        """The end of the week: Sunday's scoring instant (the next midnight, UTC), so Sunday's list counts."""
        return domain.end_of_day(self.end)


@dataclass(frozen=True)
class WeeklyReport:
    """The week's tables, one per section (keys of SECTIONS, plus `daily`: the daily job's record, for the
    drift chart), and the instant outcomes were judged at."""

    week: IsoWeek
    as_of: datetime
    generated_at: datetime
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any] = field(default_factory=dict)  # the summary as plain values, for --json


def parse_week(text: str) -> IsoWeek:
    """An ISO week written YYYY-Www (e.g. 2026-W09), or a ConfigError saying what is wrong."""
    match = _WEEK.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"--week {text!r} is not an ISO week; write it as YYYY-Www, e.g. 2026-W09")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        start = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ConfigError(f"--week {text!r}: {year} has no ISO week {number}; weeks run 01 to 52 or 53") from None
    return IsoWeek(f"{year}-W{number:02d}", start, start + timedelta(days=6))


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
    columns = ["as_of_date", "rank", "order_id", "stage", "carrier", "region", "channel", "order_value",
               "stuck_prob", "expected_cost_eur", "eta_p10_at", "eta_p50_at", "eta_p90_at", "reasons", "actions",
               "last_action", "last_action_by", "last_action_at", "action_history", "notes"]
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
    columns = ["column", "role", "kind", "method", "days", "days_drifted", "max_score", "mean_score",
               "threshold", "days_missing_rate_jumped", "days_new_categories", "max_new_category_share",
               "last_status", "last_note"]
    if drift_rows.empty:
        return pd.DataFrame(columns=columns)
    work = drift_rows.sort_values(["as_of", "column"]).assign(
        is_drifted=lambda f: (f["status"] == "drifted").astype("int64"),
        has_new=lambda f: (f["new_category_share"] > 0).astype("int64"),
        jumped=lambda f: f["missing_rate_jumped"].astype("int64"),
    )
    summary = work.groupby("column", sort=True).agg(
        role=("role", "last"), kind=("kind", "last"), method=("method", "last"), days=("as_of", "nunique"),
        days_drifted=("is_drifted", "sum"), max_score=("score", "max"), mean_score=("score", "mean"),
        threshold=("threshold", "last"), days_missing_rate_jumped=("jumped", "sum"),
        days_new_categories=("has_new", "sum"), max_new_category_share=("new_category_share", "max"),
        last_status=("status", "last"), last_note=("note", "last"),
    ).reset_index()
    return summary.sort_values(["days_drifted", "max_score"], ascending=False, ignore_index=True)[columns]


def _figure(rows: list[dict[str, Any]], section: str, name: str, value: Any, unit: str) -> None:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        value = None
    elif isinstance(value, np.integer | bool | np.bool_):
        value = int(value)
    elif isinstance(value, np.floating | float):
        value = float(value)
    rows.append({"section": section, "figure": name, "value": value, "unit": unit})


def _realised(summary: pd.DataFrame) -> Mapping[str, Any]:
    """The realised row of an overall summary (as summarise_forecasts/listings give it), or {}."""
    rows = summary.loc[~summary["estimated"].astype(bool)] if len(summary) else summary
    return rows.iloc[0].to_dict() if len(rows) else {}


def build_summary(week: IsoWeek, as_of: datetime, activity: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                  forecast_week: pd.DataFrame, listing_week: pd.DataFrame, k: int) -> pd.DataFrame:
    """Grain: headline figure — the week at a glance, each figure taken from the section tables."""
    rows: list[dict[str, Any]] = []
    _figure(rows, "week", "iso_week", week.label, "")
    _figure(rows, "week", "from", week.start.isoformat(), "Monday")
    _figure(rows, "week", "to", week.end.isoformat(), "Sunday")
    _figure(rows, "week", "outcomes_judged_at", as_of.isoformat(sep=" "), "UTC")
    _figure(rows, "activity", "orders_placed", activity["orders_placed"], "orders")
    _figure(rows, "activity", "events", activity["events"], "events")
    _figure(rows, "activity", "deliveries", activity["deliveries"], "orders")
    lists = tables["at_risk"]
    _figure(rows, "at-risk", "list_mornings", activity["list_days"], "days")
    _figure(rows, "at-risk", "orders_shown", len(lists), "listings (held-out rows are never shown)")
    _figure(rows, "at-risk", "orders_held_out", activity["listed_held_out"], "listings")
    _figure(rows, "at-risk", "listings_acted_on", int((lists["actions"] > 0).sum()), "listings")
    _figure(rows, "at-risk", "actions_taken", int(lists["actions"].sum()), "actions")
    realised = _realised(forecast_week)
    for name in accuracy.FORECAST_METRICS:
        unit = "forecasts" if name == "forecasts" else name.rsplit("_", 1)[-1]
        _figure(rows, "forecast accuracy (realised)", name, realised.get(name), unit)
    estimated = forecast_week.loc[forecast_week["estimated"].astype(bool), "forecasts"] if len(forecast_week) else []
    _figure(rows, "forecast accuracy (estimated)", "forecasts", int(sum(estimated)), "forecasts not matured yet")
    listed = _realised(listing_week)
    _figure(rows, "triage precision (realised)", "listed", listed.get("listed"), "listings, shown and held out")
    _figure(rows, "triage precision (realised)", f"precision_at_{k}_pct", listed.get("precision_at_k_pct"), "pct")
    _figure(rows, "triage precision (realised)", "lead_time_h", listed.get("lead_time_h"), "h")
    drift_cols = tables["drift"]
    _figure(rows, "drift", "columns_monitored", len(drift_cols), "columns")
    _figure(rows, "drift", "columns_drifted_any_day", int((drift_cols["days_drifted"] > 0).sum()), "columns")
    quality = tables["data_quality"].drop_duplicates("as_of")
    _figure(rows, "data quality", "rows_checked", int(quality["rows_total"].sum()), "rows")
    _figure(rows, "data quality", "rows_quarantined", int(quality["batch_rows_quarantined"].sum()), "rows")
    alert_rows = tables["alerts"]
    _figure(rows, "alerts", "alerts", len(alert_rows), "alerts")
    _figure(rows, "alerts", "critical", int((alert_rows["severity"] == "critical").sum()), "alerts")
    _figure(rows, "alerts", "open", int((alert_rows["status"] == "open").sum()), "alerts")
    ledger = tables["benefits"]
    this_week = ledger.loc[ledger["iso_week"] == week.label].set_index("metric")
    period = this_week["period"].iloc[0] if len(this_week) else None
    _figure(rows, "benefits", "period", period, "baseline, warm_up or live")
    for metric in ("contacts_per_1000_orders", "sla_breach_pct", "stuck_caught_early_pct", "triage_value_eur",
                   "total_value_eur"):
        row = this_week.loc[metric] if metric in this_week.index else None
        unit = benefits.LEDGER_METRICS[metric]
        _figure(rows, "benefits", metric, None if row is None else row["value"], unit)
        if row is not None and not pd.isna(row["target"]):
            _figure(rows, "benefits", f"{metric}_target", row["target"], unit)
    return pd.DataFrame(rows, columns=["section", "figure", "value", "unit"])


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
    bar = tqdm(total=len(steps), desc=f"report {week.label}", unit="step", disable=not progress, leave=False)
    try:
        with store_snapshot(store_path) as snap:
            bar.update()
            report = _build(week, snap, config.store_path(store_path), k, n_boot, bar)
    finally:
        bar.close()
    return report


def _build(week: IsoWeek, snap: Path, source: Path, k: int, n_boot: int, bar: Any) -> WeeklyReport:
    try:
        activity = store.fetch_df(
            "report_week_activity",
            {"week_start": week.start, "week_end": week.end, "delivered_stage": domain.TERMINAL[0]}, snap,
        ).iloc[0].to_dict()
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
    # A week not over yet is judged at the newest data: the last event, or the last scoring instant
    # (the end of the last day run) when later, so that day's forecasts count too.
    newest = max(pd.Timestamp(t) for t in (activity["last_event_at"], activity["last_scored_at"]) if not pd.isna(t))
    as_of = min(week.end_at, newest.to_pydatetime())
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
    tables["drift"] = drift_by_column(_in_week(drift.read_drift(week.start, snap), "as_of", week))
    tables["data_quality"] = _in_week(validity.read_validity(week.start, snap), "as_of", week)
    tables["alerts"] = _in_week(alerts.read_alerts(week.start, snap), "as_of", week)
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


# --- rendering --------------------------------------------------------------------------------


def _number_format(column: str, dtype: Any) -> str | None:
    """Excel number format of a column, from its name's unit suffix and its type."""
    if column.endswith("_at"):
        return "yyyy-mm-dd hh:mm"
    if column in ("as_of", "as_of_date", "week_start") or pd.api.types.is_datetime64_any_dtype(dtype):
        return "yyyy-mm-dd"
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return "#,##0"
    if column.endswith("_eur") or column == "expected_cost_eur":
        return "#,##0.00"
    if column in ("p_value",):
        return "0.0000"
    if column.endswith(("_share", "_rate_ref", "_rate_cur")) or column in ("share", "stuck_prob", "drift_share"):
        return "0.0%"
    if column.endswith(("_h", "_pct", "_value", "_days")) or column in ("figure", "overall", "gap", "value"):
        return "#,##0.0"
    if column.endswith("score") or column == "threshold":
        return "0.000"
    if pd.api.types.is_float_dtype(dtype):
        return "#,##0.00"
    return None


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes as data: NaN/NA empty, numpy scalars plain, lists as text."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | int | float | datetime | date):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        value = ", ".join(str(v) for v in value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _display_width(frame: pd.DataFrame, column: str) -> int:
    values = frame[column].head(500).astype(str).str.len()
    longest = int(values.max()) if len(values) else 0
    return max(8, min(_MAX_WIDTH, max(len(column), longest) + 2))


def write_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """One table on a sheet: bold filled header row, frozen; number formats by unit; fitted widths."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.append([str(c) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="305496")
    for row in frame.itertuples(index=False, name=None):  # openpyxl writes cell by cell anyway
        sheet.append([_cell_value(v) for v in row])
    for i, column in enumerate(frame.columns, start=1):
        if frame[column].dtype != object:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
            if export.is_risky(cell.value) or cell.data_type == "f":
                # the At-risk export's rule (core.triage.export): a string cell with a quote prefix, never a formula
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = _display_width(frame, str(column))
        fmt = _number_format(str(column), frame[column].dtype)
        if frame[column].dtype == object:
            # a mixed column (the summary's values): numbers by their own type
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    cell.number_format = "#,##0"
        elif fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"


def write_workbook(report: WeeklyReport, path: str | os.PathLike[str]) -> Path:
    """The report as an .xlsx workbook: one sheet per section, in SECTIONS order."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for key, title in SECTIONS.items():
        write_sheet(workbook.create_sheet(title), report.tables[key])
    workbook.properties.title = f"JourneyOps weekly report {report.week.label}"
    target = Path(path)
    workbook.save(target)
    return target


def _charts(report: WeeklyReport) -> dict[str, list[Any]]:
    """Plotly figures per section; they draw the section tables and compute nothing new."""
    import plotly.graph_objects as go

    def figure(title: str, traces: list[Any], y_title: str) -> Any:
        fig = go.Figure(traces)
        # plain colours, no named template: copying a template costs ~0.3 s per figure
        fig.update_layout(title=title, height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                          yaxis_title=y_title, plot_bgcolor="#ffffff",
                          xaxis={"gridcolor": "#eeeeee"}, yaxis={"gridcolor": "#eeeeee"})
        return fig

    t = report.tables
    charts: dict[str, list[Any]] = {key: [] for key in SECTIONS}
    lists = t["at_risk"]
    if len(lists):
        per_day = lists.groupby("as_of_date").agg(shown=("order_id", "size"), acted=("actions", "sum"))
        charts["at_risk"].append(figure("Listed orders and actions per morning", [
            go.Bar(x=per_day.index, y=per_day["shown"], name="orders shown"),
            go.Bar(x=per_day.index, y=per_day["acted"], name="actions taken")], "count"))
    acc = t["forecast_accuracy"]
    if len(acc):
        traces = []
        for estimated, part in acc.groupby("estimated"):
            label = "estimated" if estimated else "realised"
            traces += [go.Scatter(x=part["as_of_date"], y=part["mae_h"], name=f"MAE h ({label})", mode="lines+markers"),
                       go.Scatter(x=part["as_of_date"], y=part["bias_h"], name=f"bias h ({label})",
                                  mode="lines+markers", line={"dash": "dot"})]
        charts["forecast_accuracy"].append(figure("Forecast MAE and bias by morning", traces, "hours"))
    prec = t["triage_precision"]
    if len(prec):
        traces = [go.Bar(x=part["as_of_date"], y=part["precision_at_k_pct"],
                         name="estimated" if estimated else "realised")
                  for estimated, part in prec.groupby("estimated")]
        charts["triage_precision"].append(figure("Precision@k of the list by morning", traces, "%"))
    seg = t["segments"]
    if len(seg):
        mae = seg.loc[seg["metric"] == "mae_h"]
        charts["segments"].append(figure("MAE gap to overall by segment level", [go.Bar(
            x=mae["segment"] + ": " + mae["level"], y=mae["gap"],
            marker_color=np.where(mae["significant"], "#c0392b", "#95a5a6"))], "hours vs overall"))
    day = t["daily"]
    if len(day) and day["drift_share"].notna().any():
        charts["drift"].append(figure("Share of features drifted per day", [go.Bar(
            x=day["as_of_date"], y=day["drift_share"] * 100.0, name="drift share")], "% of features"))
    quality = t["data_quality"].drop_duplicates("as_of")
    if len(quality):
        charts["data_quality"].append(figure("Quarantined share of each day's batch", [go.Bar(
            x=quality["as_of"], y=quality["quarantined_share"] * 100.0)], "% of rows"))
    alert_rows = t["alerts"]
    if len(alert_rows):
        counts = alert_rows.groupby(["as_of", "severity"]).size().rename("alerts").reset_index()
        charts["alerts"].append(figure("Alerts per day", [
            go.Bar(x=part["as_of"], y=part["alerts"], name=severity) for severity, part in counts.groupby("severity")
        ], "alerts"))
    ledger = t["benefits"]
    total = ledger.loc[ledger["metric"] == "total_value_eur"]
    if len(total) and total["value"].notna().any():
        traces = [go.Bar(x=total["iso_week"], y=total["value"], name="total value EUR")]
        if total["target"].notna().any():
            traces.append(go.Scatter(x=total["iso_week"], y=total["target"], name="target", mode="lines"))
        charts["benefits"].append(figure("Benefit by week against target", traces, "EUR"))
    return charts


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p class=\"empty\">Nothing for this week.</p>"
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column].dtype):
            digits = 4 if column == "p_value" or column.endswith(("share", "prob", "score")) else 2
            shown[column] = shown[column].map(lambda v, d=digits: "" if pd.isna(v) else f"{v:,.{d}f}")
        elif shown[column].dtype == object:  # the summary's mixed values: numbers rounded, text as is
            shown[column] = shown[column].map(
                lambda v: ("" if np.isnan(v) else f"{v:,.2f}") if isinstance(v, float) else v)
        elif pd.api.types.is_datetime64_any_dtype(shown[column].dtype):
            fmt = "%Y-%m-%d %H:%M" if str(column).endswith("_at") else "%Y-%m-%d"
            shown[column] = shown[column].dt.strftime(fmt).fillna("")
    return shown.to_html(index=False, escape=True, na_rep="", border=0, classes="data")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1400px}
h1{margin-bottom:.2rem} nav a{margin-right:1rem} section{margin-top:2.5rem}
table.data{border-collapse:collapse;font-size:.85rem;display:block;overflow:auto;max-height:36rem}
table.data th{background:#305496;color:#fff;position:sticky;top:0;padding:.3rem .5rem;text-align:left}
table.data td{border-bottom:1px solid #ddd;padding:.25rem .5rem;white-space:nowrap}
.meta{color:#666} .empty{color:#888;font-style:italic}
"""


def render_html(report: WeeklyReport) -> str:
    """The report as one self-contained HTML page: the same tables, plotly charts, plotly.js inlined once."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    charts = _charts(report)
    esc = html.escape
    title = f"JourneyOps weekly report {report.week.label}"
    parts = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{esc(title)}</title><style>{_CSS}</style>",
        # plotly.js once, inline: the page must work offline (no CDN)
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p class=\"meta\">{esc(report.week.start.isoformat())} to {esc(report.week.end.isoformat())}; outcomes "
        f"judged at {esc(report.as_of.isoformat(sep=' '))} UTC; generated {esc(report.generated_at.isoformat(sep=' ', timespec='seconds'))} UTC</p>",
        "<nav>" + "".join(f"<a href=\"#{key}\">{esc(name)}</a>" for key, name in SECTIONS.items()) + "</nav>",
    ]
    for key, name in SECTIONS.items():
        parts.append(f"<section id=\"{key}\"><h2>{esc(name)}</h2>")
        for fig in charts[key]:
            parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=False,
                                     config={"displaylogo": False, "responsive": True}))
        parts.append(_html_table(report.tables[key]))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def report_paths(week: IsoWeek, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Where the week's workbook and HTML page go in a folder."""
    folder = Path(out_dir)
    stem = f"journeyops-weekly-{week.label}"
    return folder / f"{stem}.xlsx", folder / f"{stem}.html"


def write_weekly_report(
    week: IsoWeek | str,
    out_dir: str | os.PathLike[str],
    store_path: StorePath = None,
    *,
    k: int = DEFAULT_TRIAGE_CAPACITY,
    n_boot: int = 1000,
    progress: bool = False,
    on_built: Callable[[WeeklyReport], None] | None = None,
) -> dict[str, Any]:
    """Build the week's report and write its workbook and HTML page into out_dir; what was written."""
    report = build_weekly_report(week, store_path, k=k, n_boot=n_boot, progress=progress)
    if on_built is not None:
        on_built(report)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the report folder {folder}: {exc.strerror}; pass --out DIR") from exc
    workbook_path, html_path = report_paths(report.week, folder)
    write_workbook(report, workbook_path)
    html_path.write_text(render_html(report), encoding="utf-8")
    return {"week": report.week.label, "as_of": report.as_of.isoformat(), "workbook": str(workbook_path),
            "html": str(html_path), "summary": report.figures}
