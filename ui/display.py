"""The one display layer for tables: human column labels, units as formats, blanks for missing,
times in the viewer's time zone, widths that fit the page. Storage names never reach the screen.

Every table of every page goes through `show_table` (layout.capped_table calls it). A column gets
its label, unit and help from `COLUMNS` when the term needs words, else from its name by the
naming rules of the store (`_h` hours, `_days` days, `_pct` percent, `_eur` euros, `_at` a time).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from core import config

# Widths: a character of the grid's font is about 7.5 px, a cell adds its padding; the budget is
# the main column of the wide layout at 1400 px with the sidebar open (measured in Chromium).
CHAR_PX = 7.5
CELL_PAD_PX = 26
MIN_WIDTH_PX = 48
MAX_WIDTH_PX = 420
FLEX_MIN_PX = 200
SELECT_COLUMN_PX = 40
PAGE_BUDGET_PX = 900
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
PATH_SEP = " → "  # a process path: the stages of a case in order (core/sql/insights_top_paths.sql)
WORD = re.compile(r"^[a-z][a-z0-9]*$")
ABBREVIATIONS = {
    "mae": "MAE",
    "eta": "ETA",
    "iso": "ISO",
    "id": "id",
    "ci": "CI",
    "p10": "p10",
    "p50": "p50",
    "p90": "p90",
    "sha256": "SHA-256",
    "api": "API",
    "ks": "KS",
    "psi": "PSI",
    "wip": "WIP",
}
# Suffix of a storage name → the unit it carries (the name rules of STYLE.md).
SUFFIX_UNITS = (
    ("_eur", "eur"),
    ("_pct", "pct"),
    ("_days", "days"),
    ("_h", "h"),
    ("_s", "s"),
    ("_at", "datetime"),
    ("_date", "date"),
    ("_prob", "prob"),
    ("_n", "count"),
)
FORMATS = {
    "h": "%.1f h",
    "days": "%.1f d",
    "pct": "%.1f%%",
    "s": "%.1f s",
    "count": "%d",
    "prob": "%.2f",
    "num": "%.3g",
}


@dataclass(frozen=True)
class Column:
    """How one stored column is shown: its label, its unit (a key of FORMATS, eur, datetime, date,
    text or bool) and the help a term needs."""

    label: str
    unit: str | None = None
    help: str | None = None


COLUMNS: dict[str, Column] = {
    "order_id": Column("Order", "text"),
    "as_of": Column("Day", "date"),
    "as_of_date": Column("Day", "date"),
    "iso_week": Column("ISO week", "text"),
    "coverage_80_pct": Column("80% interval coverage", "pct", "Share of delivered orders inside the p10–p90 ETA."),
    "too_early_pct": Column("Promised too early", "pct", "Share delivered after the p50 ETA: the customer waited."),
    "too_late_pct": Column("Promised too late", "pct", "Share delivered well before the p50 ETA."),
    "interval_width_h": Column("Interval width", "h", "p90 − p10 of the ETA: how wide the promise is."),
    "cost_per_forecast_eur": Column("Cost per forecast", "eur", "Business cost of the error, per forecast."),
    "contacts_per_1000_orders": Column("Contacts per 1,000 orders", "num"),
    "welch_t": Column("Welch t", "num", "Treated − held out, divided by its standard error (Welch's t-test)."),
    "quarantined_pct": Column("Quarantined", "pct", "Share of the batch's rows set aside by the data contract."),
    "mae_h": Column("MAE", "h", "Mean absolute error of the p50 ETA."),
    "bias_h": Column("Bias", "h", "Mean of actual − p50: positive means late against the promise."),
    "stuck_prob": Column("P(stuck)", "prob", "The classifier's probability that the order gets stuck."),
    "expected_cost": Column("Expected cost", "eur", "Probability of getting stuck × the cost of a stuck order."),
    "order_value": Column("Value", "eur"),
    "missing_rate_ref": Column("Missing (reference)", "prob"),
    "missing_rate_cur": Column("Missing (current)", "prob"),
    "new_category_share": Column("New categories", "prob", "Share of current rows whose category the reference lacks."),
    "score": Column("Score", "num", "The drift method's distance between reference and current."),
    "threshold": Column("Threshold", "num"),
    "n": Column("Rows", "count"),
    "rows": Column("Rows", "count"),
    "rows_quarantined": Column("Rows quarantined", "count"),
    "effect_ci_low": Column("Effect, 95% low", "num"),
    "effect_ci_high": Column("Effect, 95% high", "num"),
}
VALUE_WORDS = {
    "chased_carrier": "Chased carrier",
    "chased_warehouse": "Chased warehouse",
    "contacted_customer": "Contacted customer",
    "no_action": "No action",
    "false_alarm": "False alarm",
    "contacts_per_1000_orders": "Contacts per 1,000 orders",
    "sla_breaches": "SLA breaches",
    "sla_breach_pct": "SLA breaches (%)",
}
UNIT_WORDS = {"h": "h", "pct": "%", "eur": "€", "days": "days", "s": "s"}


def display_timezone() -> str:
    """The viewer's time zone for every time on a page (config: $JOURNEYOPS_DISPLAY_TZ, UTC by default)."""
    return config.display_timezone()


def words(name: str) -> str:
    """A storage name as words: `median_journey_days` → `Median journey days`."""
    parts = [ABBREVIATIONS.get(part, part) for part in str(name).split("_") if part]
    text = " ".join(parts)
    return text[:1].upper() + text[1:] if text else text


def unit_of(name: str, series: pd.Series | None = None) -> str | None:
    """The unit a column carries: from COLUMNS, else its suffix, else its dtype."""
    known = COLUMNS.get(name)
    if known and known.unit:
        return known.unit
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    if series is None:
        return None
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        return "num"
    return "text"


def label_of(name: str) -> str:
    """The header of a stored column: its COLUMNS label, else its name in words without the unit suffix
    (the unit is in the cell's format)."""
    if name in COLUMNS:
        return COLUMNS[name].label
    stem = name
    for suffix, _unit in SUFFIX_UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name.removesuffix(suffix)
            break
    return words(stem)


def show_value(value: Any, of_words: bool = False) -> Any:
    """A cell as shown: a storage word in words (`payment_hold` → `Payment hold`, `lead_time_h` →
    `Lead time (h)`; `orders` too when `of_words`: its column holds storage words), each stage of a path
    (`placed → payment_hold` → `Placed → Payment hold`), anything else as it is."""
    if isinstance(value, str) and PATH_SEP in value:
        return PATH_SEP.join(str(show_value(stage, of_words=True)) for stage in value.split(PATH_SEP))
    if not isinstance(value, str) or not (SNAKE.match(value) or (of_words and WORD.match(value))):
        return value
    if value in VALUE_WORDS:
        return VALUE_WORDS[value]
    unit = UNIT_WORDS.get(str(unit_of(value)))
    return f"{label_of(value)} ({unit})" if unit else label_of(value)


def chart_words(values: Iterable[Any]) -> list[Any]:
    """A chart's category names (stages, features, metrics) in words, as the tables show them:
    `payment_hold` → `Payment hold`, `to_promise_h` → `To promise (h)`; anything else as it is."""
    return [show_value(value, of_words=True) for value in values]


def level_label(segment: str, level: Any) -> str:
    """A segment's level as a chart names it: `customer_tier`, `vip` → `Customer tier: vip`."""
    return f"{label_of(segment)}: {level}"


def _eur_format(series: pd.Series) -> str:
    values = pd.to_numeric(series, errors="coerce").abs()
    return "€%.2f" if values.notna().any() and values.max() < 100 else "€%.0f"


def _column_config(name: str, series: pd.Series, tz: str) -> Any:
    unit = unit_of(name, series)
    label = label_of(name)
    help_text = COLUMNS[name].help if name in COLUMNS else None
    cc = st.column_config
    if unit == "datetime":
        return cc.DatetimeColumn(label, format="D MMM YYYY, HH:mm", timezone=tz, help=help_text or f"Times in {tz}.")
    if unit == "date":
        return cc.DateColumn(label, format="D MMM YYYY", help=help_text)
    if unit == "bool":
        return cc.CheckboxColumn(label, help=help_text)
    if unit == "eur":
        return cc.NumberColumn(label, format=_eur_format(series), help=help_text)
    if unit in FORMATS and pd.api.types.is_numeric_dtype(series):
        return cc.NumberColumn(label, format=FORMATS[unit], help=help_text)
    return cc.TextColumn(label, help=help_text)


def _shown_text(series: pd.Series, unit: str | None) -> pd.Series:
    if unit in ("datetime", "date"):
        return pd.Series(["30 Mar 2026, 18:00"] * min(len(series), 1), dtype=object)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.map(lambda v: f"{v:,.1f} h")
    return series.astype(str)


def _natural_width(name: str, series: pd.Series) -> float:
    cells = _shown_text(series.head(200), unit_of(name, series))
    longest = max([len(label_of(name))] + [len(text) for text in cells])
    return float(min(max(longest * CHAR_PX + CELL_PAD_PX, MIN_WIDTH_PX), MAX_WIDTH_PX))


def _water_fill(natural: dict[str, float], budget_px: float) -> dict[str, float]:
    # The widest columns give way first, down to one cap that makes the sum fit.
    if sum(natural.values()) <= budget_px:
        return dict(natural)
    low, high = float(MIN_WIDTH_PX), float(MAX_WIDTH_PX)
    for _ in range(30):
        cap = (low + high) / 2
        if sum(min(w, cap) for w in natural.values()) > budget_px:
            high = cap
        else:
            low = cap
    return {name: min(width, low) for name, width in natural.items()}


def fit_widths(frame: pd.DataFrame, budget_px: int = PAGE_BUDGET_PX, flexible: Iterable[str] = ()) -> dict[str, int]:
    """A pixel width per column so the table fits `budget_px`: each column as wide as its header and
    longest cell (capped), the widest shrunk first when the sum is over the budget. `flexible` columns
    (a page's long text, e.g. the reason) take the room the others leave, at least FLEX_MIN_PX each."""
    flex = [str(c) for c in flexible if c in frame.columns]
    natural = {str(c): _natural_width(str(c), frame[c]) for c in frame.columns if str(c) not in flex}
    fixed = _water_fill(natural, budget_px - FLEX_MIN_PX * len(flex))
    widths = {name: int(width) for name, width in fixed.items()}
    room = budget_px - sum(widths.values())
    for name in flex:
        widths[name] = int(max(room / len(flex), FLEX_MIN_PX))
    return {str(c): widths[str(c)] for c in frame.columns}


def prepare(frame: pd.DataFrame, tz: str | None = None) -> pd.DataFrame:
    """The frame as the screen shows it: storage words in words, naive times (UTC in the store) in
    the viewer's zone."""
    zone = tz or display_timezone()
    shown = frame.copy()
    for name in shown.columns:
        series = shown[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            naive = series.dt.tz is None
            shown[name] = (series.dt.tz_localize("UTC") if naive else series).dt.tz_convert(zone)
        elif series.dtype == object:
            # a column of storage words (stages, metrics): every plain word is one too, in words
            of_words = bool(series.map(lambda v: isinstance(v, str) and bool(SNAKE.match(v))).any())
            shown[name] = series.map(functools.partial(show_value, of_words=of_words))
    return shown


def table_config(
    frame: pd.DataFrame,
    overrides: Mapping[str, Any] | None = None,
    order: Iterable[str] | None = None,
    budget_px: int = PAGE_BUDGET_PX,
    tz: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """The frame to show, a column config for every shown column (the page's own overrides win) and
    the column order."""
    zone = tz or display_timezone()
    columns = [c for c in (order or frame.columns) if c in frame.columns]
    shown = prepare(frame[columns], zone)
    flexible = [c for c in columns if ((overrides or {}).get(c) or {}).get("width") == "large"]
    widths = fit_widths(shown, budget_px, flexible)
    configs: dict[str, Any] = {}
    for name in columns:
        base = dict(_column_config(str(name), shown[name], zone))
        base.update(dict((overrides or {}).get(name) or {}))
        base["width"] = widths[str(name)] if not isinstance(base.get("width"), int) else base["width"]
        if base.get("type_config", {}).get("type") == "datetime":
            base["type_config"]["timezone"] = zone
        configs[str(name)] = base
    return shown, configs, [str(c) for c in columns]


def show_table(
    frame: pd.DataFrame,
    column_config: Mapping[str, Any] | None = None,
    column_order: Iterable[str] | None = None,
    **kwargs: Any,
) -> Any:
    """st.dataframe through the display layer: labels, formats, blanks for missing, fitted widths."""
    if frame.empty and not len(frame.columns):
        st.caption("Nothing to show.")
        return None
    # a selectable table draws a checkbox column of its own before the first
    budget = PAGE_BUDGET_PX - (SELECT_COLUMN_PX if kwargs.get("on_select", "ignore") != "ignore" else 0)
    shown, configs, order = table_config(frame, column_config, column_order, budget_px=budget)
    kwargs.setdefault("hide_index", True)
    return st.dataframe(shown, column_config=configs, column_order=order, placeholder="", **kwargs)
