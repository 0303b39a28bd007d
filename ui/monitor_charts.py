"""Plotly figures of the monitoring pages (Forecast accuracy, Drift, Data quality, Segments & bias,
Benefits): they draw what core computed, name every category in words (ui.display) and compute
nothing of their own."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.monitor import triage_effect
from ui.display import chart_words, level_label, show_value

HEIGHT = 340
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}
DAY_MS = 86_400_000
DAILY_TICKS_UP_TO_DAYS = 14


def days_axis(figure: go.Figure, days: pd.Series) -> go.Figure:
    """An x axis of days: ticks name days (never hours or milliseconds, which plotly picks for a few
    points), one tick a day over a short span, and a lone day gets a day either side."""
    values = pd.to_datetime(pd.Series(days)).dropna()
    if values.empty:
        return figure
    first, last = values.min(), values.max()
    settings: dict[str, object] = {"type": "date", "tickformat": "%-d %b"}
    if (last - first).days <= DAILY_TICKS_UP_TO_DAYS:
        settings["dtick"] = DAY_MS
    if first == last:
        settings["range"] = [first - pd.Timedelta(days=1), last + pd.Timedelta(days=1)]
    return figure.update_xaxes(**settings)


def accuracy_over_time(daily: pd.DataFrame) -> go.Figure:
    """MAE and bias per morning, realised (solid) and estimated (dotted)."""
    figure = go.Figure()
    for estimated, dash in ((False, "solid"), (True, "dot")):
        part = daily.loc[daily["estimated"].astype(bool) == estimated]
        label = "estimated" if estimated else "realised"
        figure.add_scatter(
            x=part["as_of_date"], y=part["mae_h"], name=f"MAE ({label})", line={"color": "#3b6ea5", "dash": dash}
        )
        figure.add_scatter(
            x=part["as_of_date"], y=part["bias_h"], name=f"bias ({label})", line={"color": "#e6550d", "dash": dash}
        )
    figure.add_hline(y=0, line_color="#999", line_width=1)
    figure.update_yaxes(title="hours")
    figure.update_layout(height=HEIGHT, margin=MARGIN)
    return days_axis(figure, daily["as_of_date"])


def cost_split(daily: pd.DataFrame) -> go.Figure:
    """Cost per forecast per morning, split into its optimistic and conservative parts (realised)."""
    part = daily.loc[~daily["estimated"].astype(bool)]
    figure = go.Figure()
    figure.add_bar(
        x=part["as_of_date"],
        y=part["optimistic_cost_per_forecast_eur"],
        name="too early (optimistic)",
        marker_color="#e6550d",
    )
    figure.add_bar(
        x=part["as_of_date"],
        y=part["conservative_cost_per_forecast_eur"],
        name="too late (conservative)",
        marker_color="#3b6ea5",
    )
    figure.update_layout(barmode="stack", height=HEIGHT, margin=MARGIN, yaxis_title="€ per forecast")
    return days_axis(figure, part["as_of_date"])


def drift_heatmap(rows: pd.DataFrame, role: str = "feature") -> go.Figure:
    """Rows: columns of the batch; columns: days; colour: score ÷ threshold (1 = the drift line)."""
    part = rows.loc[rows["role"] == role]
    ratio = part.pivot_table(index="column", columns="as_of", values="score_vs_threshold", aggfunc="max")
    flag = part.pivot_table(index="column", columns="as_of", values="drifted", aggfunc="max").reindex_like(ratio)
    text = flag.map(lambda v: "●" if v is True or v == 1 else "")
    days = [d.isoformat() for d in ratio.columns]
    names = chart_words(ratio.index)
    figure = go.Figure(
        go.Heatmap(
            z=ratio.to_numpy(),
            x=days,
            y=names,
            text=text.to_numpy(),
            texttemplate="%{text}",
            colorscale="RdBu_r",
            zmin=0,
            zmid=1,
            zmax=2,
            colorbar={"title": "score ÷ threshold"},
            hoverinfo="skip",
        )
    )
    # A heatmap cannot be selected in plotly: an invisible square marker over each cell carries the
    # click (its customdata: the day and the stored column name) and the hover.
    cells = [
        (day, name, column, z)
        for column, name, row in zip(ratio.index, names, ratio.to_numpy(), strict=True)
        for day, z in zip(days, row, strict=True)
        if pd.notna(z)
    ]
    figure.add_scatter(
        x=[c[0] for c in cells],
        y=[c[1] for c in cells],
        customdata=[[c[0], c[2], c[3]] for c in cells],
        mode="markers",
        marker={"symbol": "square", "size": 18, "opacity": 0},
        selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}},
        hovertemplate="%{y} on %{x}: %{customdata[2]:.2f}× the drift threshold (click for its distributions)"
        "<extra></extra>",
        showlegend=False,
    )
    figure.update_xaxes(type="category", title=None)
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_layout(height=max(HEIGHT, 24 * len(ratio) + 90), margin=MARGIN)
    return figure


def quality_chart(batches: pd.DataFrame) -> go.Figure:
    """Rows quarantined per batch."""
    figure = go.Figure(
        go.Bar(
            x=batches["as_of"],
            y=batches["rows_quarantined"],
            marker_color="#e6550d",
            customdata=batches["quarantined_pct"],
            hovertemplate="%{x}: %{y:,} rows (%{customdata:.2f}%)<extra></extra>",
        )
    )
    figure.update_layout(height=280, margin=MARGIN, yaxis_title="rows quarantined")
    return days_axis(figure, batches["as_of"])


def gap_chart(table: pd.DataFrame, metric: str) -> go.Figure:
    """Gap to overall per level of every segment for one metric; significant gaps in a strong colour."""
    part = table.loc[table["metric"] == metric].copy()
    part["label"] = [level_label(s, v) for s, v in zip(part["segment"], part["level"], strict=True)]
    colors = part["significant"].map({True: "#c0392b"}).fillna("#9ecae1")
    figure = go.Figure(
        go.Bar(
            x=part["gap"],
            y=part["label"],
            orientation="h",
            marker_color=colors.tolist(),
            customdata=part[["orders", "p_value", "p_value_adjusted"]].to_numpy(),
            hovertemplate=(
                "%{y}: gap %{x:.2f} (%{customdata[0]} orders, p=%{customdata[1]:.3f}, "
                "adjusted p=%{customdata[2]:.3f})<extra></extra>"
            ),
        )
    )
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_xaxes(title=f"gap to overall, {show_value(metric, of_words=True)}")
    figure.update_layout(height=max(HEIGHT, 22 * len(part) + 80), margin=MARGIN)
    return figure


def holdout_chart(holdout: pd.DataFrame) -> go.Figure:
    """Treated − held out per metric over all weeks, with the bootstrap 95% interval."""
    part = holdout.loc[holdout["iso_week"] == triage_effect.ALL_WEEKS]
    part = part.loc[part["metric"] != "triage_value_eur"]
    figure = go.Figure(
        go.Scatter(
            x=part["effect"],
            y=chart_words(part["metric"]),
            mode="markers",
            marker={"size": 11, "color": "#3b6ea5"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": part["effect_ci_high"] - part["effect"],
                "arrayminus": part["effect"] - part["effect_ci_low"],
            },
            customdata=part[["treated_value", "held_out_value", "unit"]].to_numpy(),
            hovertemplate="%{y}: treated %{customdata[0]:.2f} vs held out %{customdata[1]:.2f} %{customdata[2]}"
            "<extra></extra>",
        )
    )
    figure.add_vline(x=0, line_color="#999")
    figure.update_layout(height=260, margin=MARGIN, xaxis_title="treated − held out (95% CI)")
    return figure


def distribution_chart(shares: pd.DataFrame, kind: str, log_scale: bool, column: str) -> go.Figure:
    """A column's values, reference vs current: overlaid histograms of shares on the score's scale
    (numbers), or side-by-side bars of each category's share."""
    figure = go.Figure()
    sides = (("reference_share", "reference (champion's sample)", "#9ecae1"), ("current_share", "this day", "#e6550d"))
    if kind == "numeric":
        middle = (shares["low"] + shares["high"]) / 2
        width = shares["high"] - shares["low"]
        for share, name, colour in sides:
            figure.add_bar(
                x=middle,
                y=shares[share] * 100,
                width=width,
                name=name,
                marker_color=colour,
                opacity=0.6,
                customdata=shares[["low_value", "high_value"]].to_numpy(),
                hovertemplate=f"{name}: %{{y:.1f}}% between %{{customdata[0]:,.4g}} and %{{customdata[1]:,.4g}}"
                "<extra></extra>",
            )
        what = show_value(column, of_words=True)
        axis = f"log(1 + {what})" if log_scale else what
        figure.update_layout(barmode="overlay", bargap=0)
    else:
        for share, name, colour in sides:
            figure.add_bar(
                x=chart_words(shares["category"]),
                y=shares[share] * 100,
                name=name,
                marker_color=colour,
                hovertemplate=f"{name}: %{{x}} %{{y:.1f}}%<extra></extra>",
            )
        axis = show_value(column, of_words=True)
        figure.update_layout(barmode="group")
    figure.update_xaxes(title=axis)
    figure.update_yaxes(title="share of values (%)")
    figure.update_layout(height=HEIGHT, margin=MARGIN, legend={"orientation": "h", "y": 1.12})
    return figure
