"""At-risk list: the morning's list ranked by expected cost, filters, one order's reasons, ETA,
journey and actions, and the export. Held-out orders never appear."""

from __future__ import annotations

import streamlit as st

from core.triage import worklist as core_worklist
from ui import data, layout, session, worklist

user = session.require_page("at_risk")
st.title("At-risk list")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    days = worklist.list_days(store_path, version)
    if not days:
        worklist.no_run("a triage list")
    as_of = worklist.pick_day(days)
    full = worklist.read_list(store_path, version, as_of)
    filters = worklist.filter_widgets(core_worklist.filter_options(full), full["order_value"])
    listed = worklist.read_list(store_path, version, as_of, filters)

st.caption(
    f"The list of {as_of:%A %d %B %Y}, ranked by expected cost of delay: {len(listed):,} of {len(full):,} "
    "orders match the filters. ETA early/late: the 80% interval."
)
layout.capped_table(listed, column_config=worklist.LIST_COLUMNS, column_order=worklist.LIST_COLUMN_ORDER)
worklist.export_buttons(user, listed, as_of)

st.subheader("Order")
order_ids = listed["order_id"].head(layout.TABLE_ROW_CAP).tolist()
if st.session_state.get("at_risk_order") not in order_ids:
    st.session_state.pop("at_risk_order", None)
order_id = st.selectbox(
    "Open an order", order_ids, key="at_risk_order", index=None, placeholder="pick an order from the list"
)
if order_id is None:
    st.stop()
with layout.store_guard():
    view = worklist.order_view(store_path, data.store_version(store_path), order_id, as_of)
if view is None:
    st.stop()
row = listed.set_index("order_id").loc[order_id]
st.markdown(
    f"**{order_id}** · {row['stage']} · {row['carrier']} · {row['region']} · {row['channel']} · "
    f"€{row['order_value']:,.0f} · expected cost €{row['expected_cost']:,.0f}"
)
st.markdown("**Why:** " + (row["reasons"] or "no reasons given"))
st.markdown(worklist.eta_text(view["order"]))
worklist.action_form(user, order_id, as_of, store_path, key="at_risk")
with layout.store_guard():
    recorded = worklist.order_view(store_path, data.store_version(store_path), order_id, as_of)
worklist.actions_table(recorded["actions"] if recorded else view["actions"])
st.markdown("**Journey so far** (red: the stage it is in now)")
st.plotly_chart(worklist.timeline_chart(view["journey"]), key="at_risk_timeline")
