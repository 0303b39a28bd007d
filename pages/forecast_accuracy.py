"""Forecast accuracy: how good the ETAs and the at-risk list were, realised and estimated apart."""

from __future__ import annotations

import streamlit as st

from core.domain import SEGMENT_COLUMNS
from ui import data, layout, monitor_charts
from ui import monitoring as mon

st.title("Forecast accuracy")
st.caption(
    "The champion's morning ETAs judged against what happened, and the at-risk list's precision and "
    "lead time. Realised figures use matured forecasts only; the rest are estimates from the forecasts' own spread."
)
mon.guard_page("forecast_accuracy")
store_path = data.current_store()
segment = st.sidebar.selectbox("Break down by", SEGMENT_COLUMNS, key="accuracy_segment")
with layout.store_guard():
    as_of, version = mon.as_of_day(store_path)
    view = mon.accuracy_view(store_path, version, as_of, segment)
if view["forecasts"] == 0:
    mon.no_daily_data("forecasts")

kpis = mon.accuracy_kpis(view)
layout.kpi_row(kpis[:4])
layout.kpi_row(kpis[4:])
st.caption(f"As of the end of {as_of:%d %b %Y} (UTC), over {layout.fmt_int(view['forecasts'])} forecasts.")

st.subheader("Over time")
st.plotly_chart(monitor_charts.accuracy_over_time(view["daily"]))
st.caption("Per morning the forecasts were made. Dotted: estimated (orders not delivered yet).")

st.subheader("Too early or too late, and what it costs")
st.plotly_chart(monitor_charts.cost_split(view["daily"]))
st.caption("Cost per forecast of the ETA error under the current cost assumptions, split by its side.")

st.subheader(f"By {segment.replace('_', ' ')}")
layout.realised_and_estimated(view["by_segment"], "Realised: orders delivered", "Estimated: orders not delivered yet")

st.subheader("The at-risk list")
layout.realised_and_estimated(
    view["triage_daily"].sort_values("as_of_date", ascending=False),
    "Realised: mornings whose listed orders have all ended",
    "Estimated: mornings with listed orders still open",
)
st.caption(
    "precision@k: share of each morning's top k (shown and held out alike) that got stuck after "
    "being listed; lead time: hours from first listed to stuck."
)
