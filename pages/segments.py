"""Segments & bias: does the model serve every carrier, region, channel, ship mode and tier alike?"""

from __future__ import annotations

import streamlit as st

from core.monitor.segments import ALPHA, MIN_ORDERS, SEGMENT_METRICS
from ui import data, layout, monitor_charts, segment_orders
from ui import monitoring as mon
from ui.display import level_label

st.title("Segments & bias")
st.caption(
    "Each segment level's realised figure beside the overall one, with the gap and a Welch t-test of the "
    "level's orders against all others (two-sided). The day's tests are one family: p-values are adjusted "
    f"with Benjamini–Hochberg and a gap is significant below {ALPHA:.0%} adjusted (levels under {MIN_ORDERS} "
    "orders are never called significant). One order counts once, however many mornings it was forecast."
)
mon.guard_page("segments")
store_path = data.current_store()
metric = st.sidebar.selectbox("Figure", list(SEGMENT_METRICS), key="segments_metric")
with layout.store_guard():
    as_of, version = mon.as_of_day(store_path)
    table = mon.segment_view(store_path, version, as_of)
if table.empty:
    mon.no_daily_data("matured forecasts")

shown = table.loc[table["metric"] == metric]
layout.kpi_row(
    [
        ("Levels compared", layout.fmt_int(len(shown)), "Segment levels with realised outcomes."),
        (
            "Significant gaps",
            layout.fmt_int(int(shown["significant"].sum())),
            "Levels differing at 5%, p-values adjusted (Benjamini–Hochberg).",
        ),
        ("Unit", SEGMENT_METRICS[metric][3], "The unit of the figure and its gap."),
    ]
)
st.subheader("Gap to overall")
st.plotly_chart(monitor_charts.gap_chart(table, metric))
st.caption("Red: significant. Hover for the orders behind a level and its raw and adjusted p-values.")

st.subheader("The segment table")
only_significant = st.toggle("Significant gaps only", key="segments_significant")
rows = table.loc[table["significant"]] if only_significant else table
layout.capped_table(rows.round(3))

st.subheader("The orders behind a gap")
picked = segment_orders.pick_level(shown)
if picked is not None:
    with layout.store_guard():
        orders = segment_orders.level_orders(store_path, version, as_of, *picked, metric)
    st.caption(
        f"The {len(orders):,} orders of {level_label(*picked)} with a realised outcome, each once (its mean over "
        "the mornings it was forecast), the largest first: their mean is the level's figure. Click a row."
    )
    order_id = segment_orders.show_orders(orders)
    if order_id is not None:
        segment_orders.link_to_order(order_id)
