"""Data quality: what each day's batch held, what the contracts rejected, and why."""

from __future__ import annotations

import streamlit as st

from ui import data, layout, monitor_charts
from ui import monitoring as mon

st.title("Data quality")
st.caption(
    "Every landing file is checked against its contract on ingest; failing rows go to quarantine with "
    "their reason and never reach the models. One batch = what a daily run loaded."
)
mon.guard_page("data_quality")
store_path = data.current_store()
with layout.store_guard():
    as_of, version = mon.as_of_day(store_path)
    view = mon.quality_view(store_path, version, as_of)
batches = view["batches"]
if batches.empty:
    mon.no_daily_data("contract results")

latest = batches.iloc[0]
layout.kpi_row(
    [
        ("Batches", layout.fmt_int(len(batches)), "Daily batches up to the as-of day."),
        ("Rows checked", layout.fmt_int(batches["rows_total"].sum()), "Rows read over all batches."),
        ("Rows quarantined", layout.fmt_int(batches["rows_quarantined"].sum()), "Rows that failed a contract."),
        ("Latest batch", mon.pct(latest["quarantined_pct"]), f"Share quarantined on {latest['as_of']:%d %b}."),
    ]
)

st.subheader("Contract results per batch")
st.plotly_chart(monitor_charts.quality_chart(batches))
layout.capped_table(batches.round(3))

st.subheader("Reasons")
if view["reasons"].empty:
    st.success("No row failed a contract in these batches.", icon=":material/check_circle:")
else:
    layout.capped_table(view["reasons"].sort_values(["as_of", "rows_quarantined"], ascending=False))

st.subheader("Quarantined rows")
if view["quarantined"].empty:
    st.caption("Quarantine is empty.")
else:
    layout.capped_table(view["quarantined"])
    st.caption("The newest rows first; fix the source and re-deliver the file to load them.")
