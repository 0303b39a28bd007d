"""The Segments page's drill-down: from one segment level's gap to the orders behind it
(core.monitor.segments.load_level_orders, cached by store version), each one click from Order lookup."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.monitor import segments
from ui import data, display, layout, navigation, session
from ui.display import level_label

LEVEL_KEY = "segments_level"
TABLE_KEY = "segments_orders"


def pick_level(shown: pd.DataFrame) -> tuple[str, str] | None:
    """The segment level to open, significant gaps and the widest first (None when there is none)."""
    ordered = shown.assign(width=shown["gap"].abs()).sort_values(
        ["significant", "width"], ascending=[False, False], kind="stable"
    )
    options = [(str(s), str(v)) for s, v in zip(ordered["segment"], ordered["level"], strict=True)]
    if not options:
        return None
    if st.session_state.get(LEVEL_KEY) not in options:
        st.session_state.pop(LEVEL_KEY, None)
    return st.selectbox("Segment level", options, key=LEVEL_KEY, format_func=lambda o: level_label(*o))


@st.cache_data(ttl=data.TTL_S, max_entries=32, show_spinner="Reading the level's orders…")
def level_orders(store_path: str, version: float, as_of: date, segment: str, level: str, metric: str) -> pd.DataFrame:
    """The orders behind one row of the segment table (core.monitor.segments.load_level_orders)."""
    return segments.load_level_orders(segment, level, metric, store_path, as_of=as_of)


def show_orders(orders: pd.DataFrame) -> str | None:
    """The level's orders as one table (capped); the clicked row's order, else the first."""
    shown = orders.head(layout.TABLE_ROW_CAP)
    event = display.show_table(shown, key=TABLE_KEY, on_select="rerun", selection_mode="single-row")
    if len(orders) > len(shown):
        st.caption(f"Showing the first {len(shown):,} of {len(orders):,} orders.")
    rows = list(event.selection.rows) if event is not None else []
    if shown.empty:
        return None
    return str(shown["order_id"].iloc[rows[0] if rows else 0])


def link_to_order(order_id: str) -> None:
    """A link to Order lookup on one order, for a role that may open it."""
    navigation.link_to(
        "order_lookup", f"Open {order_id} in Order lookup", {"order": order_id}, session.current_user().role
    )
