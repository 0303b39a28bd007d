"""Cached reads, widgets and action handlers of the daily-work pages (Today, At-risk list, Order
lookup). Numbers come from `core.views.today` / `core.triage.worklist`; actions go through `core.triage.actions`,
which checks the role on the server whatever the page shows."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.access import activity, roles
from core.errors import JourneyOpsError
from core.triage import actions, export, worklist
from core.views import stored, today
from ui import data, layout
from ui.display import chart_words

TTL_S = data.TTL_S
NO_RUN_NOTE = (
    "No daily run has written {what} yet — run `python -m core demo` (it builds a history with daily "
    "runs) or `python -m core daily`, then reload this page."
)
ACTION_LABELS = {
    "contacted_customer": "Contacted customer",
    "chased_warehouse": "Chased warehouse",
    "chased_carrier": "Chased carrier",
    "expedited": "Expedited",
    "no_action": "No action",
    "false_alarm": "False alarm",
}
LIST_COLUMNS = {
    "rank": st.column_config.NumberColumn("#", width=40),
    "order_id": st.column_config.TextColumn("order"),
    "expected_cost": st.column_config.NumberColumn("expected cost", format="€%.0f"),
    "stuck_prob": st.column_config.ProgressColumn("P(stuck)", format="%.2f", min_value=0.0, max_value=1.0),
    "stage": st.column_config.TextColumn("stage"),
    "order_value": st.column_config.NumberColumn("value", format="€%.0f"),
    "eta_p10_at": st.column_config.DatetimeColumn("ETA early", format="ddd D MMM HH:mm"),
    "eta_p50_at": st.column_config.DatetimeColumn("ETA", format="ddd D MMM HH:mm"),
    "eta_p90_at": st.column_config.DatetimeColumn("ETA late", format="ddd D MMM HH:mm"),
    "reasons": st.column_config.TextColumn("why", width="large"),
    "last_action": st.column_config.TextColumn("last action"),
}
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def no_run(what: str) -> None:
    """A friendly note saying what to run, and stop the page."""
    st.info(NO_RUN_NOTE.format(what=what), icon=":material/inbox:")
    st.stop()


# ---------------------------------------------------------------- cached reads


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run_days(store_path: str, version: float) -> list[date]:
    """Days the daily job ran for, newest first."""
    return today.run_days(store_path)


@st.cache_data(ttl=TTL_S, max_entries=32, show_spinner=False)
def today_figures(store_path: str, version: float, as_of: date) -> today.TodayFigures | None:
    """Today's figures for one day (the daily job's stored view when current, core.views.stored)."""
    return stored.today_view(as_of, store_path)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def list_days(store_path: str, version: float) -> list[date]:
    """Mornings with a triage list, newest first."""
    return worklist.list_days(store_path)


@st.cache_data(ttl=TTL_S, max_entries=64, show_spinner=False)
def _worklist_rows(store_path: str, version: float, as_of: date, filters: tuple[Any, ...]) -> pd.DataFrame:
    return worklist.read_worklist(as_of, worklist.ListFilters(*filters), store_path)


def read_list(
    store_path: str, version: float, as_of: date, filters: worklist.ListFilters | None = None
) -> pd.DataFrame:
    """The shown list of a morning, filtered (cached by its filters' values)."""
    return _worklist_rows(store_path, version, as_of, astuple(filters or worklist.ListFilters()))


@st.cache_data(ttl=TTL_S, max_entries=64, show_spinner=False)
def order_view(store_path: str, version: float, order_id: str, as_of: date) -> dict[str, Any] | None:
    """One order as of a day: attributes and ETAs, journey, forecast history, actions; None if unknown."""
    order = worklist.read_order(order_id, as_of, store_path)
    if order is None:
        return None
    return {
        "order": order,
        "journey": worklist.read_journey(order_id, as_of, store_path),
        "history": worklist.read_forecast_history(order_id, as_of, store_path),
        "actions": worklist.read_actions(order_id, as_of, store_path),
        "listed": worklist.is_listed(order_id, as_of, store_path),
    }


# ---------------------------------------------------------------- widgets


def pick_day(days: list[date]) -> date:
    """The as-of day from the sidebar picker, moved back to the newest of `days` on or before it."""
    chosen = layout.as_of_picker(min(days), max(days))
    return max(d for d in days if d <= chosen)


def filter_widgets(options: dict[str, list[str]], values: pd.Series) -> worklist.ListFilters:
    """Filters of the list (stage, carrier, region, channel, value); kept in session_state by key."""
    columns = st.columns([1, 1, 1, 1, 1.4])
    chosen = {
        name: tuple(column.multiselect(name.capitalize(), options[name], key=f"at_risk_{name}", placeholder="any"))
        for column, name in zip(columns, worklist.FILTER_COLUMNS, strict=False)
    }
    top = float(values.max()) if len(values) and pd.notna(values.max()) else 0.0
    top = max(float(int(top) + 1), 1.0)
    if st.session_state.get("at_risk_value_top") != top:
        # another day's list has another top value: a kept range could fall outside the slider
        st.session_state["at_risk_value_top"] = top
        st.session_state["at_risk_value"] = (0.0, top)
    low, high = columns[4].slider("Order value (€)", 0.0, top, step=1.0, key="at_risk_value")
    return worklist.ListFilters(
        stages=chosen["stage"],
        carriers=chosen["carrier"],
        regions=chosen["region"],
        channels=chosen["channel"],
        min_value=low if low > 0 else None,
        max_value=high if high < top else None,
    )


def export_buttons(user: roles.User, listed: pd.DataFrame, as_of: date) -> None:
    """Download the filtered list as Excel or CSV (formula-safe cells), when the role may export."""
    if not roles.can(user.role, "export_list"):
        st.caption(f"Your role ({user.role}) may not export the list.")
        return
    frame = worklist.export_frame(listed)
    left, right, _ = st.columns([1, 1, 4])
    for column, fmt, label in ((left, "xlsx", "Excel"), (right, "csv", "CSV")):
        column.download_button(
            f"Export {label}",
            export.export_list(user, frame, fmt),
            file_name=f"at-risk-{as_of}.{fmt}",
            mime=export.MEDIA_TYPES[fmt],
            key=f"at_risk_export_{fmt}",
            icon=":material/download:",
            on_click=record_export,
            args=(user, as_of, fmt, len(frame)),
        )


def record_export(user: roles.User, as_of: date, fmt: str, rows: int) -> None:
    """The export buttons' callback: the activity log keeps who took which list, in which format."""
    subject = f"at-risk list of {as_of} ({fmt})"
    activity.record_activity(user, "export_list", subject, f"{rows} rows", data.current_store())


def action_form(user: roles.User, order_id: str, as_of: date, store_path: str, key: str) -> None:
    """One-click action with a note; the server-side record_action refuses what the role may not do."""
    allowed = roles.can(user.role, "record_triage_action")
    with st.form(f"{key}_form", clear_on_submit=True, border=True):
        st.markdown(f"**Record an action** on `{order_id}` (list of {as_of:%a %d %b})")
        left, right = st.columns([1, 2])
        action = left.selectbox("Action", list(ACTION_LABELS), format_func=ACTION_LABELS.get, key=f"{key}_action")
        note = right.text_input(
            "Note", max_chars=actions.MAX_NOTE_CHARS, key=f"{key}_note", placeholder="what was done, what was promised"
        )
        submitted = st.form_submit_button(
            "Record action",
            type="primary",
            disabled=not allowed,
            icon=":material/check:",
            help=None if allowed else f"Your role ({user.role}) may not record triage actions.",
        )
    if submitted:
        submit_action(user, order_id, as_of, str(action), str(note or ""), store_path)


def submit_action(user: roles.User, order_id: str, as_of: date, action: str, note: str, store_path: str) -> None:
    """Record the action on the server and say what happened (refusals included)."""
    try:
        recorded = actions.record_action(user, order_id, as_of, action, note, store_path)
    except JourneyOpsError as exc:
        st.error(str(exc), icon=":material/block:")
        return
    verb = "Recorded" if recorded.created else "Already recorded"
    st.success(
        f"{verb}: {ACTION_LABELS[recorded.action]} on {recorded.order_id} by {recorded.actor}.",
        icon=":material/task_alt:",
    )


def actions_table(recorded: pd.DataFrame) -> None:
    """The actions taken on an order, newest first (who, when, what, note)."""
    if recorded.empty:
        st.caption("No action recorded on this order yet.")
        return
    shown = recorded.assign(action=recorded["action"].map(lambda a: ACTION_LABELS.get(a, a)))
    layout.capped_table(
        shown[["acted_at", "action", "note", "actor", "as_of_date"]],
        column_config={
            "acted_at": st.column_config.DatetimeColumn("When", format="D MMM HH:mm"),
            "as_of_date": st.column_config.DateColumn("List of"),
        },
    )


# ---------------------------------------------------------------- charts and text


def eta_text(order: dict[str, Any]) -> str:
    """The customer's ETA and the forecast interval in one line."""
    shown = order.get("eta_shown_at")
    parts = [
        f"Customer sees **{shown:%a %d %b %H:%M}** ({order.get('eta_source')})"
        if shown is not None
        else "No ETA shown to the customer yet"
    ]
    if order.get("eta_p50_at") is not None:
        parts.append(
            f"forecast {order['eta_p50_at']:%a %d %b %H:%M}, 80% between "
            f"{order['eta_p10_at']:%a %d %b %H:%M} and {order['eta_p90_at']:%a %d %b %H:%M}"
        )
    return " · ".join(parts)


def timeline_chart(journey: pd.DataFrame) -> go.Figure:
    """The journey as bars: each stage from its event to the next (the last one up to the as-of day)."""
    figure = go.Figure(
        go.Bar(
            y=chart_words(journey["stage"]),
            x=journey["hours_in_stage_h"] * 3_600_000,
            base=journey["event_at"],
            orientation="h",
            marker_color=["#d62728" if c else "#1f77b4" for c in journey["is_current"]],
            hovertemplate="%{y}: %{base|%a %d %b %H:%M}, %{customdata:.1f} h<extra></extra>",
            customdata=journey["hours_in_stage_h"],
        )
    )
    figure.update_layout(
        height=60 + 32 * len(journey),
        margin=MARGIN,
        xaxis_type="date",
        yaxis={"autorange": "reversed", "title": None},
        showlegend=False,
    )
    return figure


def forecast_chart(history: pd.DataFrame) -> go.Figure:
    """How the ETA forecast moved morning by morning: p50 with the p10–p90 band."""
    figure = go.Figure(
        [
            go.Scatter(
                x=history["as_of_date"],
                y=history["eta_p90_at"],
                mode="lines",
                line={"width": 0},
                name="late (p90)",
                showlegend=False,
            ),
            go.Scatter(
                x=history["as_of_date"],
                y=history["eta_p10_at"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.2)",
                name="80% interval",
            ),
            go.Scatter(
                x=history["as_of_date"],
                y=history["eta_p50_at"],
                mode="lines+markers",
                name="ETA (p50)",
                line={"color": "#1f77b4"},
            ),
        ]
    )
    figure.update_layout(
        height=300,
        margin=MARGIN,
        xaxis_title="forecast of the morning of",
        xaxis={"tickformat": "%a %d %b", "dtick": 86_400_000},
        yaxis_title="expected delivery",
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
