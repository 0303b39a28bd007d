"""Process insights: how long cases spend in each stage, where they pile up, and which paths they take."""

from __future__ import annotations

import streamlit as st

from core.views import insights
from ui import charts, data, display, layout

st.title("Process insights")
st.caption(
    "How cases move through the process: time spent in each stage, the weekly bottleneck, work in "
    "progress and the most common paths. Works on the simulated order world and on an imported log."
)
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    first_day, last_day = layout.stop_if_empty(data.event_span(store_path, version))
    start, as_of = layout.window_picker(first_day, last_day)
    view = data.process_insights(store_path, version, start, as_of)

kpis = view["kpis"]
ends = ", ".join(display.chart_words(view["end_stages"])) or "none found yet"
layout.kpi_row(
    [
        ("Active cases", layout.fmt_int(kpis["active_cases"]), "Cases with at least one event in the window."),
        ("Events", layout.fmt_int(kpis["events"]), "Events inside the window."),
        ("Ended cases", layout.fmt_int(kpis["ended_cases"]), "Cases that reached an end stage in the window."),
        ("Median journey", layout.fmt_days(kpis["median_journey_days"]), "First to last event, ended cases."),
        ("P90 journey", layout.fmt_days(kpis["p90_journey_days"]), "9 in 10 ended cases took at most this."),
        ("Open at as-of", layout.fmt_int(kpis["open_cases"]), "Cases not at an end stage by the as-of day."),
    ]
)
st.caption(f"Window: {start:%d %b %Y} → {as_of:%d %b %Y} (end of day, UTC). A case ends at: {ends}.")

st.subheader("Time in each stage")
log_scale = st.toggle("Log scale", value=False, help="Spread out short dwell times next to long ones.")
st.plotly_chart(charts.dwell_box(view["dwell_stats"], log_scale))
st.caption(
    "Dwell time = from the event that put a case in a stage to the case's next event. Box: the middle "
    "half of dwells (p25–p75), the median as a line, the mean dashed; whiskers: p5–p95. Only finished dwells that "
    "began in the window count, so stages still open at the as-of day are not in it yet."
)
with st.expander("Dwell times as a table"):
    layout.capped_table(view["dwell_stats"].round(2), column_config=layout.DWELL_COLUMNS)

st.subheader("Bottleneck per week")
st.caption(
    "The **bottleneck** of an ISO week is the stage where cases spent the most hours in total "
    "(cases entering the stage that week × their dwell): it weighs how many waited and how long."
)
if view["weekly_waiting"].empty:
    st.info("No finished dwells in this window yet.")
else:
    layout.capped_table(
        view["bottlenecks"].drop(columns="week_start").sort_values("iso_week", ascending=False),
        column_config=layout.BOTTLENECK_COLUMNS,
    )
    st.plotly_chart(charts.slowdown_heatmap(view["weeks_vs_usual"], view["stage_order"]))
    st.caption(
        "Slower or faster than usual: each cell is the week's median dwell divided by the stage's "
        f"median over the whole window (red: slower). Blank: fewer than {insights.MIN_DWELLS_FOR_COMPARISON} dwells. "
        "The latest week counts only dwells that have already ended, so it looks faster than it is."
    )

st.subheader("Work in progress")
st.caption(
    "Open cases in each stage at the end of each day: a case sits in the stage of its latest event "
    "until its next event, and leaves once it reaches an end stage."
)
st.plotly_chart(charts.wip_area(view["wip"], view["stage_order"]))

st.subheader("Most common paths")
st.caption(
    "A path (variant) is the sequence of activities of a case, known once the case ends. "
    f"Top 10 of {layout.fmt_int(view['distinct_paths'])} distinct paths among the cases that ended in the window."
)
layout.capped_table(view["top_paths"], column_config=layout.PATH_COLUMNS, column_order=layout.PATH_COLUMN_ORDER)
