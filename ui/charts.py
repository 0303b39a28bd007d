"""Plotly figures for the pages: they draw what core computed and compute nothing of their own."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.display import chart_words, show_value

HEIGHT = 380
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


# Journey stages in cool colours along the way, exceptions in warm ones; other activities cycle.
STAGE_COLORS: dict[str, str] = {
    "placed": "#c6dbef",
    "payment_confirmed": "#9ecae1",
    "allocated": "#6baed6",
    "picked": "#4292c6",
    "packed": "#2171b5",
    "shipped": "#74c476",
    "out_for_delivery": "#31a354",
    "delivered": "#006d2c",
    "payment_hold": "#fdae6b",
    "stock_shortage": "#fd8d3c",
    "address_query": "#e6550d",
    "carrier_exception": "#a63603",
    "cancelled": "#969696",
}


def stage_colors(stages: Sequence[str]) -> dict[str, str]:
    """A colour per stage: fixed for the order world, a qualitative palette for any other activity."""
    others = iter(px.colors.qualitative.Plotly * (len(stages) // 10 + 1))
    return {stage: STAGE_COLORS[stage] if stage in STAGE_COLORS else next(others) for stage in stages}


def _ordered(stages: Sequence[str], order: Sequence[str]) -> list[str]:
    # Stages missing from the order (e.g. seen only in open cases) go last, alphabetically.
    present = set(stages)
    return [s for s in order if s in present] + sorted(present - set(order))


def dwell_box(dwell_stats: pd.DataFrame, log_scale: bool = False) -> go.Figure:
    """Box per stage from precomputed quantiles: box p25–p75, line at the median, whiskers p5–p95."""
    stages = chart_words(dwell_stats["stage"])
    figure = go.Figure(
        go.Box(
            y=stages,
            q1=dwell_stats["p25_h"],
            median=dwell_stats["median_h"],
            q3=dwell_stats["p75_h"],
            lowerfence=dwell_stats["p05_h"],
            upperfence=dwell_stats["p95_h"],
            mean=dwell_stats["mean_h"],
            orientation="h",
            boxpoints=False,
            marker_color="#3b6ea5",
            customdata=dwell_stats["dwells"],
            name="dwell",
        )
    )
    figure.update_yaxes(categoryorder="array", categoryarray=stages[::-1], title=None)
    figure.update_xaxes(title="hours in stage", type="log" if log_scale else "linear")
    figure.update_layout(height=max(HEIGHT, 34 * len(stages) + 80), margin=MARGIN, showlegend=False)
    return figure


def slowdown_heatmap(weeks_vs_usual: pd.DataFrame, stage_order: Sequence[str]) -> go.Figure:
    """Each week's median dwell ÷ the stage's usual median (rows: stages, columns: ISO weeks)."""
    ratio = weeks_vs_usual.pivot_table(index="stage", columns="iso_week", values="vs_usual_ratio")
    median = weeks_vs_usual.pivot_table(index="stage", columns="iso_week", values="median_h")
    stages = _ordered(weeks_vs_usual["stage"].unique().tolist(), stage_order)
    weeks = sorted(weeks_vs_usual["iso_week"].unique())
    ratio, median = ratio.reindex(index=stages, columns=weeks), median.reindex(index=stages, columns=weeks)
    figure = go.Figure(
        go.Heatmap(
            z=ratio.to_numpy(),
            x=weeks,
            y=chart_words(stages),
            customdata=median.to_numpy(),
            colorscale="RdBu_r",
            zmin=0.0,
            zmid=1.0,
            zmax=2.0,
            colorbar={"title": "× usual", "tickvals": [0, 0.5, 1, 1.5, 2]},
            hovertemplate="%{x} · %{y}: median %{customdata:.1f} h = %{z:.2f}× usual<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_xaxes(title="ISO week the case entered the stage", type="category")
    figure.update_layout(height=max(HEIGHT, 28 * len(stages) + 100), margin=MARGIN)
    return figure


def wip_area(wip: pd.DataFrame, stage_order: Sequence[str]) -> go.Figure:
    """Stacked area of cases in each stage at the end of each day."""
    grid = wip.pivot_table(index="day", columns="stage", values="cases", fill_value=0, aggfunc="sum")
    stages = _ordered(grid.columns.tolist(), stage_order)
    colors = stage_colors(stages)
    figure = go.Figure()
    for stage, label in zip(stages, chart_words(stages), strict=True):
        figure.add_trace(
            go.Scatter(
                x=grid.index,
                y=grid[stage],
                name=label,
                mode="lines",
                stackgroup="wip",
                line={"width": 0.5, "color": colors[stage]},
                fillcolor=colors[stage],
                hovertemplate="%{x|%a %d %b}: %{y:,} in " + label + "<extra></extra>",
            )
        )
    figure.update_xaxes(title=None)
    figure.update_yaxes(title="open cases at end of day")
    figure.update_layout(height=HEIGHT + 40, margin=MARGIN, legend={"traceorder": "normal"})
    return figure


def targets_chart(ledger: pd.DataFrame) -> go.Figure | None:
    """Targets against actuals: per ledger metric that has a target, its live weeks' value and the target
    (dashed); None when no metric has a target."""
    if ledger.empty:
        return None
    live = ledger.loc[(ledger["period"] == "live") & ledger["target"].notna()]
    if live.empty:
        return None
    long = pd.concat(
        [
            live.assign(series="actual", figure=live["value"]),
            live.assign(series="target", figure=live["target"]),
        ]
    ).assign(metric=lambda f: f["metric"].map(lambda m: show_value(m, of_words=True)))
    figure = px.line(
        long,
        x="iso_week",
        y="figure",
        color="series",
        line_dash="series",
        facet_col="metric",
        facet_col_wrap=3,
        markers=True,
        color_discrete_map={"actual": "#3b6ea5", "target": "#969696"},
        labels={"iso_week": "ISO week", "figure": "", "series": ""},
    )
    figure.update_yaxes(matches=None, showticklabels=True)
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    rows = -(-long["metric"].nunique() // 3)
    figure.update_layout(height=max(HEIGHT, 260 * rows), margin=MARGIN)
    return figure
