"""Drift: how far each day's open orders and predictions moved from the model's reference sample, and
one column's distributions, reference vs a day (a cell clicked, the selectors, or `?day=&column=`)."""

from __future__ import annotations

import streamlit as st

from ui import data, drift_cell, layout
from ui import monitoring as mon

st.title("Drift")
st.caption(
    "Each daily run compares the open orders' features and the predictions with the champion's training "
    "sample with Evidently's methods (normed Wasserstein, Jensen-Shannon) on calibrated thresholds. A dot "
    "marks a drifted column; click a cell to see its distributions; Evidently's report below shows the same scores."
)
mon.guard_page("drift")
store_path = data.current_store()
days = st.sidebar.slider("Days shown", 7, 90, 30, key="drift_days")
with layout.store_guard():
    as_of, version = mon.as_of_day(store_path)
    view = mon.drift_view(store_path, version, as_of, days)
if not view["days"]:
    mon.no_daily_data("drift results")
rows = view["rows"]
drift_cell.read_link(view["days"], rows)

st.subheader("Features per day")
drift_cell.heatmap(rows, "feature")
st.caption("Colour: the column's drift score ÷ its threshold (red above 1: past the drift line). Click a cell.")

st.subheader("Prediction drift")
if (rows["role"] == "prediction").any():
    drift_cell.heatmap(rows, "prediction")
else:
    st.info("No prediction columns were compared in this window.")

st.subheader("One column, one day")
day, column = drift_cell.pick(view["days"], rows)
if column is not None:
    drift_cell.show_distributions(store_path, version, day, column)

st.subheader("Evidently's report")
layout.capped_table(mon.drift_table(rows, day).round(3))
report = mon.report_file(store_path, day)
if report is not None:
    st.iframe(report, height=900)
elif day in mon.report_days(store_path, version):
    st.caption("The full report is rendered from the day's stored snapshot by a background job (a few seconds).")
    if st.button("Build the report", key="drift_build", icon=":material/description:"):
        with layout.store_guard():
            mon.build_drift_report(store_path, day)
    mon.job_progress(store_path, "drift_report_run", "The drift report is ready.")
else:
    st.caption(
        "No report was kept for this day: a backfill keeps Evidently's snapshot for its last days only "
        "(the scores above are every day's). Re-run that day's `daily` to keep its report."
    )
