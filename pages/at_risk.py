"""At-risk list: the triage morning — the list ranked by expected cost with its reason and ETA, "new" and
"since …" markers, the order panel under the list with previous / next, actions, the follow-up of
earlier actions and the export. Held-out orders never appear."""

from __future__ import annotations

import streamlit as st

from core.triage import worklist as core_worklist
from ui import data, layout, morning, session, worklist

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
    markers = morning.list_markers(store_path, version, as_of, tuple(days))
    outcomes = morning.action_outcomes(store_path, version, as_of)

shown = morning.morning_list(listed, markers)
new = int((shown["marker"] == "new").sum())
st.caption(
    f"The list of {as_of:%A %d %B %Y}, ranked by expected cost of delay: {len(listed):,} of {len(full):,} "
    f"orders match the filters; {new:,} new since the previous morning. Click a row to open the order."
)
morning.show_list(shown)
worklist.export_buttons(user, listed, as_of)

st.subheader("Follow-up on earlier actions")
morning.show_follow_up(outcomes)

st.subheader("Order")
order_ids = shown["order_id"].head(layout.TABLE_ROW_CAP).tolist()
order_id = morning.pick_order(order_ids)
if order_id is None:
    st.stop()
with layout.store_guard():
    view = worklist.order_view(store_path, data.store_version(store_path), order_id, as_of)
if view is None:
    st.stop()
row = shown.set_index("order_id", drop=False).loc[order_id]
st.markdown(morning.order_heading(row, int(row["place"]), len(shown)))
st.markdown("**Why:** " + (row["reasons"] or "no reasons given"))
st.markdown(worklist.eta_text(view["order"]))
worklist.action_form(user, order_id, as_of, store_path, key="at_risk")
with layout.store_guard():
    recorded = worklist.order_view(store_path, data.store_version(store_path), order_id, as_of)
worklist.actions_table(recorded["actions"] if recorded else view["actions"])
st.markdown("**Journey so far** (red: the stage it is in now)")
st.plotly_chart(worklist.timeline_chart(view["journey"]), key="at_risk_timeline")
