"""Plotly figures for the pages: they draw what core computed and compute nothing of their own."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

HEIGHT = 380
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def _ordered(stages: Sequence[str], order: Sequence[str]) -> list[str]:
    # Stages missing from the order (e.g. seen only in open cases) go last, alphabetically.
    present = set(stages)
    return [s for s in order if s in present] + sorted(present - set(order))


def dwell_box(dwell_stats: pd.DataFrame, log_scale: bool = False) -> go.Figure:
    """Box per stage from precomputed quantiles: box p25–p75, line at the median, whiskers p5–p95."""
    stages = dwell_stats["stage"].tolist()
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
    figure.update_layout(
        height=max(HEIGHT, 34 * len(stages) + 80), margin=MARGIN, showlegend=False
    )
    return figure


def waiting_heatmap(weekly_waiting: pd.DataFrame, stage_order: Sequence[str]) -> go.Figure:
    """Share of each week's waiting hours per stage (rows: stages, columns: ISO weeks)."""
    week_total_h = weekly_waiting.groupby("iso_week")["total_h"].transform("sum")
    share = weekly_waiting.assign(share_pct=100.0 * weekly_waiting["total_h"] / week_total_h)
    grid = share.pivot_table(index="stage", columns="iso_week", values="share_pct", fill_value=0.0)
    grid = grid.reindex(_ordered(grid.index.tolist(), stage_order))
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=grid.columns.tolist(),
            y=grid.index.tolist(),
            colorscale="Blues",
            colorbar={"title": "% of week's<br>waiting"},
            hovertemplate="%{x} · %{y}: %{z:.1f}% of the week's waiting hours<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_xaxes(title="ISO week the case entered the stage", type="category")
    figure.update_layout(height=max(HEIGHT, 28 * len(grid) + 100), margin=MARGIN)
    return figure


def wip_area(wip: pd.DataFrame, stage_order: Sequence[str]) -> go.Figure:
    """Stacked area of cases in each stage at the end of each day."""
    grid = wip.pivot_table(index="day", columns="stage", values="cases", fill_value=0, aggfunc="sum")
    figure = go.Figure()
    for stage in _ordered(grid.columns.tolist(), stage_order):
        figure.add_trace(
            go.Scatter(
                x=grid.index, y=grid[stage], name=stage, mode="lines", stackgroup="wip",
                line={"width": 0.5},
                hovertemplate="%{x|%a %d %b}: %{y:,} in " + stage + "<extra></extra>",
            )
        )
    figure.update_xaxes(title=None)
    figure.update_yaxes(title="open cases at end of day")
    figure.update_layout(height=HEIGHT + 40, margin=MARGIN, legend={"traceorder": "normal"})
    return figure
