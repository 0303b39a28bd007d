"""Order lookup: one order's journey so far, the ETA its customer sees with the interval, and how the
forecast moved day by day."""

from __future__ import annotations

import streamlit as st

from ui import data, layout, navigation, session, worklist

user = session.require_page("order_lookup")
st.title("Order lookup")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    first_day, last_day = layout.stop_if_empty(data.event_span(store_path, version))
    as_of = layout.as_of_picker(first_day, last_day)

navigation.follow_link("order", "lookup_order")  # ?order=O0001234 opens that order
order_id = st.text_input("Order id", key="lookup_order", placeholder="e.g. O0001234").strip()
if order_id:
    navigation.keep_in_address("order", "lookup_order", order_id)
else:
    st.caption("Type an order id to see its journey, its ETA and how the forecast moved.")
    st.stop()
with layout.store_guard():
    view = worklist.order_view(store_path, version, order_id, as_of)
if view is None:
    st.warning(f"No order {order_id!r} in the store.", icon=":material/search_off:")
    st.stop()

order = view["order"]
st.markdown(
    f"**{order_id}** · placed {order['placed_at']:%a %d %b %H:%M} · {order['channel']} · "
    f"{order['region']} · {order['carrier']} · €{(order['order_value'] or 0):,.0f}"
)
st.markdown(worklist.eta_text(order))

st.subheader("Journey so far")
if view["journey"].empty:
    st.caption(f"No events by the end of {as_of:%d %b %Y}.")
else:
    st.plotly_chart(worklist.timeline_chart(view["journey"]), key="lookup_timeline")
    st.caption("Each bar: from the event into a stage to the next event; red: the stage it is in now.")

st.subheader("How the forecast moved")
if view["history"].empty:
    st.caption("No forecast for this order yet (before go-live, or not open on a scored morning).")
else:
    st.plotly_chart(worklist.forecast_chart(view["history"]), key="lookup_forecast")

st.subheader("Triage actions")
if view["listed"]:
    worklist.action_form(user, order_id, as_of, store_path, key="lookup")
    with layout.store_guard():
        view = worklist.order_view(store_path, data.store_version(store_path), order_id, as_of) or view
worklist.actions_table(view["actions"])
