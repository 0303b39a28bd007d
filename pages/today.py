"""Today: the morning view — orders open, on the list, alerts, data freshness, the champion and its
recent accuracy, and what changed since yesterday."""

from __future__ import annotations

import streamlit as st

from core.views.today import ACCURACY_WINDOW_DAYS
from ui import data, drift_cell, layout, session, worklist

session.require_page("today")
st.title("Today")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    days = worklist.run_days(store_path, version)
    if not days:
        worklist.no_run("a morning")
    as_of = worklist.pick_day(days)
    figures = worklist.today_figures(store_path, version, as_of)

assert figures is not None  # a run day always has figures
st.caption(f"The morning of {figures.as_of_date:%A %d %B %Y}: figures as they stood at the end of the day (UTC).")


def change(value: int | None) -> str:
    return "—" if value is None else f"{value:+,}"


layout.kpi_row(
    [
        ("Orders open", layout.fmt_int(figures.open_orders), "Orders not delivered or cancelled at the day's end."),
        (
            "On the list",
            layout.fmt_int(figures.on_list),
            f"Shown to triage; {figures.held_out} more held out to measure benefit (never shown).",
        ),
        (
            "Alerts open",
            layout.fmt_int(figures.alerts_open),
            f"{figures.alerts_raised} raised this day, {figures.critical_raised} critical.",
        ),
        (
            "Data freshness",
            "—" if figures.freshness_h is None else f"{figures.freshness_h:.1f} h",
            "Hours between the newest event and the end of the day.",
        ),
        (
            "Champion error",
            "—" if figures.mae_h is None else f"{figures.mae_h:.1f} h",
            f"Mean absolute error of the champion's median ETA over the last {ACCURACY_WINDOW_DAYS} mornings, "
            "orders delivered by now.",
        ),
        (
            "Interval coverage",
            "—" if figures.coverage_pct is None else f"{figures.coverage_pct:.0f}%",
            f"Share of those {figures.matured_forecasts:,} forecasts delivered inside their 80% interval.",
        ),
    ]
)
st.markdown(
    f"Champion: **{figures.forecaster_version or 'none yet'}** (stuck classifier "
    f"{figures.classifier_version or 'none yet'}) · customers see **{figures.eta_source or 'no'}** ETAs."
)

st.subheader("Since yesterday")
layout.kpi_row(
    [
        ("Open orders", change(figures.open_orders_change), "Change in orders open."),
        ("List size", change(figures.on_list_change), "Change in orders shown on the list."),
        ("New on the list", layout.fmt_int(figures.new_on_list), "Shown today, not shown yesterday."),
        ("Left the list", layout.fmt_int(figures.left_list), "Shown yesterday, not today."),
        ("Alerts open", change(figures.alerts_open_change), "Change in open alerts."),
        ("Actions taken", layout.fmt_int(figures.actions), "Actions recorded on this morning's list."),
    ]
)
notes = []
if figures.on_list == 0:
    notes.append("No at-risk list this morning: the daily run lists orders once a champion model serves.")
if figures.champion_changed:
    notes.append(f"A new champion serves: **{figures.forecaster_version}**.")
if figures.critical_raised:
    notes.append(f"{figures.critical_raised} critical alert(s) raised this day — see the monitoring pages.")
if figures.last_event_at is not None:
    notes.append(
        f"Newest event: {figures.last_event_at:%a %d %b %H:%M} ({figures.events_last_day:,} events in the last 24 h)."
    )
st.markdown("  \n".join(notes) or "Nothing changed since yesterday.")

with layout.store_guard():
    column_alerts = drift_cell.day_column_alerts(store_path, version, as_of)
if len(column_alerts):
    st.subheader("Columns that alerted")
    st.caption("Each opens the Drift page on that column's distributions, the champion's sample against this day.")
    drift_cell.alert_links(column_alerts, as_of)
