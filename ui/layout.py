"""Shared page furniture: the store guard, the as-of window picker, KPI rows and capped tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pandas as pd
import streamlit as st

from core.errors import StoreBusyError, StoreMissingError
from ui import display

TABLE_ROW_CAP = 200
BUSY_REFRESH_S = 5
BUSY_NOTE = "The store is being updated by a job right now — refreshing in a moment."
MISSING_NOTE = "No store yet — run `python -m core demo` to build the demo world, then reload this page."
EMPTY_NOTE = "The store holds no events yet — load some with `python -m core ingest` or `python -m core import-log`."

_HOURS = {"format": "%.1f h"}
_DWELLS = st.column_config.NumberColumn("Dwells", format="%d", help="Finished dwells that began in the window.")
DWELL_COLUMNS = {
    "dwells": _DWELLS,
    **{
        column: st.column_config.NumberColumn(label, **_HOURS)
        for column, label in (
            ("p05_h", "p5"),
            ("p25_h", "p25"),
            ("median_h", "Median"),
            ("p75_h", "p75"),
            ("p95_h", "p95"),
            ("mean_h", "Mean"),
            ("total_h", "Total"),
        )
    },
    "mean_position": st.column_config.NumberColumn("Mean position in case", format="%.1f"),
}
BOTTLENECK_COLUMNS = {
    "iso_week": st.column_config.TextColumn("ISO week"),
    "stage": st.column_config.TextColumn("Bottleneck stage"),
    "total_h": st.column_config.NumberColumn("Total waiting", format="%.0f h"),
    "share_pct": st.column_config.ProgressColumn(
        "Share of the week's waiting", format="%.0f%%", min_value=0, max_value=100
    ),
    "median_h": st.column_config.NumberColumn("Median dwell", **_HOURS),
    "dwells": _DWELLS,
}
PATH_COLUMN_ORDER = ("rank", "path", "cases", "share_pct", "median_journey_days")
PATH_COLUMNS = {  # widths add up to the page's width on a laptop, so the path gets the room
    "rank": st.column_config.NumberColumn("#", width=40),
    "path": st.column_config.TextColumn("Path", width=590),
    "cases": st.column_config.NumberColumn("Cases", format="%d", width=60),
    "share_pct": st.column_config.ProgressColumn("Share", format="%.1f%%", min_value=0, max_value=100, width=110),
    "median_journey_days": st.column_config.NumberColumn("Median journey", format="%.1f d", width=120),
}


@st.fragment(run_every=BUSY_REFRESH_S)
def _refresh_when_due() -> None:
    # The first run only arms the timer; each timed run after it reruns the whole page.
    if st.session_state.get("_store_busy_armed"):
        st.session_state["_store_busy_armed"] = False
        st.rerun(scope="app")
    st.session_state["_store_busy_armed"] = True


@contextmanager
def store_guard() -> Iterator[None]:
    """Turn a busy or missing store into a calm note instead of a stack trace, and stop the page."""
    try:
        yield
    except StoreBusyError:
        st.info(BUSY_NOTE, icon=":material/hourglass_top:")
        st.button("Refresh now", key="store_busy_refresh")
        _refresh_when_due()
        st.stop()
    except StoreMissingError as exc:
        st.warning(MISSING_NOTE, icon=":material/database:")
        st.caption(str(exc))
        st.stop()


def stop_if_empty(span: tuple[date, date] | None) -> tuple[date, date]:
    """The event span of the store; a note and a stop when it holds no events."""
    if span is None:
        st.info(EMPTY_NOTE, icon=":material/inbox:")
        st.stop()
        raise AssertionError("unreachable: st.stop() ends the script")
    return span


def _clamp_choice(key: str, default: date, low: date, high: date) -> None:
    # The choice is kept across pages and reruns, but must stay inside today's range of the store.
    chosen = st.session_state.get(key, default)
    st.session_state[key] = chosen if low <= chosen <= high else default


def as_of_picker(first_day: date, last_day: date) -> date:
    """Sidebar picker for the as-of day alone (default: the latest); shared with window_picker."""
    with st.sidebar:
        _clamp_choice("as_of_day", last_day, first_day, last_day)
        return st.date_input(
            "As of",
            min_value=first_day,
            max_value=last_day,
            key="as_of_day",
            help="See the data as it stood at the end of this day; later events are ignored.",
        )


def window_picker(first_day: date, last_day: date) -> tuple[date, date]:
    """Sidebar pickers for the as-of day (default: the latest) and the window start (default: the first)."""
    with st.sidebar:
        _clamp_choice("as_of_day", last_day, first_day, last_day)
        as_of = st.date_input(
            "As of",
            min_value=first_day,
            max_value=last_day,
            key="as_of_day",
            help="See the data as it stood at the end of this day; later events are ignored.",
        )
        _clamp_choice("window_start", first_day, first_day, as_of)
        start = st.date_input(
            "Window from",
            min_value=first_day,
            max_value=as_of,
            key="window_start",
            help="Figures cover events from this day up to the as-of day.",
        )
    return start, as_of


def kpi_row(items: Sequence[tuple[str, str, str] | tuple[str, str, str, str]]) -> None:
    """A row of metrics: (label, formatted value, help text[, a line under the value, e.g. its interval])."""
    for column, (label, value, help_text, *under) in zip(st.columns(len(items)), items, strict=True):
        column.metric(label, value, delta=under[0] if under else None, delta_color="off", help=help_text)


def fmt_int(value: float | int | None) -> str:
    """A count with thousands separators, or a dash."""
    return "—" if value is None else f"{int(value):,}"


def fmt_days(value: float | None) -> str:
    """A duration in days, or a dash."""
    return "—" if value is None else f"{value:.1f} d"


def realised_and_estimated(frame: pd.DataFrame, realised: str, estimated: str) -> None:
    """A table of accuracy figures as two labelled tables, realised rows and estimated ones (orders not
    all ended yet), never mixed in one grid; `frame` carries the `estimated` flag."""
    for flag, label in ((False, realised), (True, estimated)):
        rows = frame[frame["estimated"] == flag].drop(columns="estimated")
        st.markdown(f"**{label}**")
        if rows.empty:
            st.caption("None in this window.")
        else:
            capped_table(rows.round(2))


def capped_table(frame: pd.DataFrame, cap: int = TABLE_ROW_CAP, **kwargs: object) -> None:
    """Show at most `cap` rows through the display layer and say so when the table is longer."""
    display.show_table(frame.head(cap), **kwargs)  # type: ignore[arg-type]
    if len(frame) > cap:
        st.caption(f"Showing the first {cap:,} of {len(frame):,} rows.")
