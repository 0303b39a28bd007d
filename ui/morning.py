"""The triage morning on the At-risk page: the list that fits the screen (place, marker, order, why,
ETA, cost, action), the order panel under the selected row with previous/next, and the follow-up of
earlier actions. Numbers come from `core.triage.morning` and `core.triage.worklist`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from core.triage import morning
from ui import data, display, worklist

ORDER_KEY = "at_risk_order"
TABLE_KEY = "at_risk_table"
MORNING_ORDER = ("place", "marker", "order_id", "reasons", "eta_p50_at", "expected_cost", "last_action")
MORNING_COLUMNS = {
    "place": st.column_config.NumberColumn("#", format="%d", help="Place on this morning's list, 1 = act first."),
    "marker": st.column_config.TextColumn(
        "On the list", help="new: not on the previous morning's list; since …: on every list since that morning."
    ),
    "order_id": st.column_config.TextColumn("Order"),
    "reasons": st.column_config.TextColumn(
        "Why", width="large", help="What the model saw: the reasons the order is at risk."
    ),
    "eta_p50_at": st.column_config.DatetimeColumn("ETA", format="ddd D MMM HH:mm", help="The p50 delivery forecast."),
    "expected_cost": st.column_config.NumberColumn(
        "Expected cost", format="€%.0f", help="Probability of getting stuck × the cost of a stuck order."
    ),
    "last_action": st.column_config.TextColumn("Action today", help="The last action recorded on this list."),
}
OUTCOME_ORDER = ("list_date", "order_id", "action", "actor", "outcome")
OUTCOME_COLUMNS = {
    "list_date": st.column_config.DateColumn("List of", format="ddd D MMM"),
    "order_id": st.column_config.TextColumn("Order"),
    "action": st.column_config.TextColumn("Action"),
    "actor": st.column_config.TextColumn("By"),
    "outcome": st.column_config.TextColumn(
        "What happened", help="From the order's events after that list was built, up to the end of the as-of day."
    ),
}


@st.cache_data(ttl=data.TTL_S, max_entries=32, show_spinner=False)
def list_markers(store_path: str, version: float, as_of: date, days: tuple[date, ...]) -> pd.DataFrame:
    """Markers of the morning's shown list (core.triage.morning.list_markers)."""
    return morning.list_markers(as_of, days, store_path)


@st.cache_data(ttl=data.TTL_S, max_entries=32, show_spinner=False)
def action_outcomes(store_path: str, version: float, as_of: date) -> pd.DataFrame:
    """What became of the orders acted on from the earlier lists (core.triage.morning.action_outcomes)."""
    return morning.action_outcomes(as_of, store_path)


def morning_list(listed: pd.DataFrame, markers: pd.DataFrame) -> pd.DataFrame:
    """The shown list with its places (no holes), markers and today's action in words."""
    marked = listed.merge(markers[["order_id", "marker"]], on="order_id", how="left")
    return marked.assign(
        place=morning.positions(marked),
        last_action=marked["last_action"].map(lambda a: worklist.ACTION_LABELS.get(a, a) if isinstance(a, str) else a),
    )


def _select_row(order_ids: list[str]) -> None:
    rows = st.session_state[TABLE_KEY].selection.rows
    if rows:
        st.session_state[ORDER_KEY] = order_ids[rows[0]]


def show_list(shown: pd.DataFrame) -> None:
    """The list as one table that fits the page; a click on a row opens that order below."""
    order_ids = shown["order_id"].head(worklist.layout.TABLE_ROW_CAP).tolist()
    display.show_table(
        shown.head(worklist.layout.TABLE_ROW_CAP),
        column_config=MORNING_COLUMNS,
        column_order=MORNING_ORDER,
        key=TABLE_KEY,
        on_select=lambda: _select_row(order_ids),
        selection_mode="single-row",
    )
    if len(shown) > worklist.layout.TABLE_ROW_CAP:
        st.caption(f"Showing the first {worklist.layout.TABLE_ROW_CAP:,} of {len(shown):,} orders.")


def _step(order_ids: list[str], step: int) -> None:
    current = st.session_state.get(ORDER_KEY)
    at = order_ids.index(current) if current in order_ids else -1
    st.session_state[ORDER_KEY] = order_ids[min(max(at + step, 0), len(order_ids) - 1)]


def pick_order(order_ids: list[str]) -> str | None:
    """The open order: from a click on the list, the picker, or previous / next."""
    if st.session_state.get(ORDER_KEY) not in order_ids:
        st.session_state.pop(ORDER_KEY, None)
    left, prev_col, next_col = st.columns([4, 1, 1], vertical_alignment="bottom")
    order_id = left.selectbox(
        "Open an order", order_ids, key=ORDER_KEY, index=None, placeholder="pick an order, or click its row above"
    )
    prev_col.button("Previous", key="at_risk_prev", on_click=_step, args=(order_ids, -1), icon=":material/north:")
    next_col.button("Next order", key="at_risk_next", on_click=_step, args=(order_ids, 1), icon=":material/south:")
    return order_id


def order_heading(row: Any, place: int, total: int) -> str:
    """The panel's first line: place, marker and the order's facts."""
    return (
        f"**#{place} of {total} · {row['order_id']}** · {row['marker']} · {str(row['stage']).replace('_', ' ')} · "
        f"{row['carrier']} · {row['region']} · {row['channel']} · €{row['order_value']:,.0f} · "
        f"expected cost €{row['expected_cost']:,.0f}"
    )


def show_follow_up(outcomes: pd.DataFrame) -> None:
    """The orders acted on from the earlier lists and what became of them."""
    if outcomes.empty:
        st.caption("No action on the lists of the past week yet: their outcomes show here the next morning.")
        return
    fixed = int(outcomes["fixed"].sum())
    st.caption(f"{fixed} of {len(outcomes)} orders acted on in the past week are fixed (delivered or moved on).")
    shown = outcomes.assign(action=outcomes["action"].map(lambda a: worklist.ACTION_LABELS.get(a, a)))
    display.show_table(shown, column_config=OUTCOME_COLUMNS, column_order=OUTCOME_ORDER)
