"""The Drift page's pick of one day and one column — a heatmap cell clicked, the two selectors, or a
link to the page (`?day=YYYY-MM-DD&column=NAME`, see `link_params`) — and that column's distributions,
reference vs the day (core.views.drift, cached by store version). The page's address follows the pick,
so it can be shared."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import streamlit as st

from core.errors import ConfigError
from core.monitor import alerts
from core.monitor.alerts import METHOD_NAMES
from core.views import drift as drift_view
from core.views import today
from ui import data, layout, monitor_charts, navigation, session
from ui.display import show_value

DAY_KEY = "drift_report_day"
COLUMN_KEY = "drift_column"
LINKED_KEY = "drift_linked"  # the (day, column) of the address when the page last read or wrote it


def link_params(day: date | str, column: str) -> dict[str, str]:
    """The query parameters of a link to one drift cell."""
    return {"day": day if isinstance(day, str) else day.isoformat(), "column": column}


def day_columns(rows: pd.DataFrame, day: date) -> list[str]:
    """The columns compared on a day: features, then predictions, the furthest past its threshold first."""
    part = rows.loc[rows["as_of"] == day].assign(feature=lambda f: f["role"] == "feature")
    part = part.sort_values(["feature", "score_vs_threshold"], ascending=[False, False], na_position="last")
    return part["column"].astype(str).tolist()


def read_link(days: Sequence[date], rows: pd.DataFrame) -> None:
    """Preselect the day and column of the address when it changed since the page last saw it (a link
    was followed); a day or column the window lacks is said, not guessed."""
    wanted = (st.query_params.get("day"), st.query_params.get("column"))
    if wanted == (None, None) or wanted == st.session_state.get(LINKED_KEY):
        return
    st.session_state[LINKED_KEY] = wanted
    try:
        day = date.fromisoformat(str(wanted[0]))
    except ValueError:
        st.warning(
            f"The link names no day a drift run has ({wanted[0]!r}): pick one below.", icon=":material/link_off:"
        )
        return
    if day not in days:
        st.warning(
            f"No drift results on {day:%d %b %Y} in the days shown: pick a day below.", icon=":material/link_off:"
        )
        return
    st.session_state[DAY_KEY] = day
    if wanted[1] in day_columns(rows, day):
        st.session_state[COLUMN_KEY] = wanted[1]
    elif wanted[1]:
        st.warning(f"{show_value(str(wanted[1]), of_words=True)} was not compared on {day:%d %b %Y}.")


def pick_cell(chart_key: str) -> None:
    """The heatmap's selection callback: a clicked cell picks its day and column."""
    event = st.session_state.get(chart_key)
    points = event.selection.points if event is not None else []
    if points and points[0].get("customdata"):
        day, column = points[0]["customdata"][:2]
        st.session_state[DAY_KEY] = date.fromisoformat(str(day))
        st.session_state[COLUMN_KEY] = str(column)


def heatmap(rows: pd.DataFrame, role: str) -> None:
    """The role's heatmap; clicking a cell picks it."""
    key = f"drift_heatmap_{role}"
    figure = monitor_charts.drift_heatmap(rows, role)
    st.plotly_chart(figure, key=key, on_select=lambda: pick_cell(key), selection_mode="points")


def pick(days: Sequence[date], rows: pd.DataFrame) -> tuple[date, str | None]:
    """The day and column selectors (the day also picks Evidently's report); the address follows them."""
    left, right = st.columns(2)
    day = left.selectbox("Day", days, key=DAY_KEY, format_func=lambda d: f"{d:%a %d %b %Y}")
    columns = day_columns(rows, day)
    if st.session_state.get(COLUMN_KEY) not in columns:
        st.session_state.pop(COLUMN_KEY, None)
    column = right.selectbox("Column", columns, key=COLUMN_KEY, format_func=lambda c: str(show_value(c, of_words=True)))
    if column is not None:
        params = link_params(day, column)
        st.session_state[LINKED_KEY] = (params["day"], params["column"])
        st.query_params.update(params)
    return day, column


@st.cache_data(ttl=data.TTL_S, max_entries=16, show_spinner="Rebuilding the day's values…")
def distributions(store_path: str, version: float, day: date, column: str) -> drift_view.ColumnDistributions:
    """One column's reference and current values on a day, as its score compared them (core.views.drift)."""
    return drift_view.column_distributions(day, column, store_path)


def verdict(dist: drift_view.ColumnDistributions) -> str:
    """The caption under the distributions: the stored score, its threshold and the verdict."""
    sizes = f"{dist.values_ref:,} reference values against {dist.values_cur:,} of the day"
    scale = "; numbers compared on a log scale, log(1 + x), for their heavy right tail" if dist.log_scale else ""
    if dist.score is None or dist.threshold is None:
        return f"Not scored ({dist.note or dist.status}). {sizes}{scale}."
    method = METHOD_NAMES.get(str(dist.method), str(dist.method))
    outcome = "past the drift line" if dist.drifted else "within the drift line"
    return (
        f"{method}: score {dist.score:.3f} against the threshold {dist.threshold:.3f} — {outcome} "
        f"({dist.score / dist.threshold:.2f}×). {sizes}{scale}."
    )


def show_distributions(store_path: str, version: float, day: date, column: str) -> None:
    """The column's distributions, reference vs the day, with the stored score and threshold below."""
    try:
        with layout.store_guard():
            dist = distributions(store_path, version, day, column)
    except ConfigError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    figure = monitor_charts.distribution_chart(dist.shares, dist.kind, dist.log_scale, column)
    st.plotly_chart(figure, key="drift_distributions")
    st.caption(verdict(dist))


def link_to_cell(day: date | str, column: str, label: str) -> None:
    """A link to the Drift page on one day and column, for a role that may open it."""
    navigation.link_to("drift", label, link_params(day, column), session.current_user().role)


def alert_link(as_of: date | str, rule: str, subject: str) -> None:
    """Under an alert about one column: a link to that column's distributions on the alert's day."""
    cell = alerts.drift_cell(rule, subject, as_of)
    if cell is not None:
        day, column = cell
        link_to_cell(day, column, f"See {show_value(column, of_words=True)} on {day:%d %b %Y} in Drift")


@st.cache_data(ttl=data.TTL_S, max_entries=16, show_spinner=False)
def day_column_alerts(store_path: str, version: float, day: date) -> pd.DataFrame:
    """The alerts about one column seen on a day (core.views.today.column_alerts)."""
    return today.column_alerts(day, store_path)


def alert_links(column_alerts: pd.DataFrame, day: date) -> None:
    """One link per column alert of the day, to that column's distributions on the day."""
    for row in column_alerts.itertuples():
        what = f"{show_value(str(row.rule))}: {show_value(str(row.column), of_words=True)} ({row.severity})"
        link_to_cell(day, str(row.column), what)
