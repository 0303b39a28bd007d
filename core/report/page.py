"""The weekly report as one self-contained HTML page: the section tables with plotly charts, plotly.js inlined once."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.report.contents import SECTIONS, WeeklyReport


def _charts(report: WeeklyReport) -> dict[str, list[Any]]:
    """Plotly figures per section; they draw the section tables and compute nothing new."""
    charts: dict[str, list[Any]] = {key: [] for key in SECTIONS}
    for key, draw in _SECTION_CHARTS.items():
        charts[key] = draw(report.tables)
    return charts


def _figure(title: str, traces: list[Any], y_title: str) -> Any:
    fig = go.Figure(traces)
    # plain colours, no named template: copying a template costs ~0.3 s per figure
    fig.update_layout(
        title=title,
        height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis_title=y_title,
        plot_bgcolor="#ffffff",
        xaxis={"gridcolor": "#eeeeee"},
        yaxis={"gridcolor": "#eeeeee"},
    )
    return fig


def _at_risk_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    lists = t["at_risk"]
    if not len(lists):
        return []
    per_day = lists.groupby("as_of_date").agg(shown=("order_id", "size"), acted=("actions", "sum"))
    return [
        _figure(
            "Listed orders and actions per morning",
            [
                go.Bar(x=per_day.index, y=per_day["shown"], name="orders shown"),
                go.Bar(x=per_day.index, y=per_day["acted"], name="actions taken"),
            ],
            "count",
        )
    ]


def _accuracy_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    acc = t["forecast_accuracy"]
    if not len(acc):
        return []
    traces = []
    for estimated, part in acc.groupby("estimated"):
        label = "estimated" if estimated else "realised"
        traces += [
            go.Scatter(x=part["as_of_date"], y=part["mae_h"], name=f"MAE h ({label})", mode="lines+markers"),
            go.Scatter(
                x=part["as_of_date"],
                y=part["bias_h"],
                name=f"bias h ({label})",
                mode="lines+markers",
                line={"dash": "dot"},
            ),
        ]
    return [_figure("Forecast MAE and bias by morning", traces, "hours")]


def _precision_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    prec = t["triage_precision"]
    if not len(prec):
        return []
    traces = [
        go.Bar(
            x=part["as_of_date"],
            y=part["precision_at_k_pct"],
            name="estimated" if estimated else "realised",
        )
        for estimated, part in prec.groupby("estimated")
    ]
    return [_figure("Precision@k of the list by morning", traces, "%")]


def _segment_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    seg = t["segments"]
    if not len(seg):
        return []
    mae = seg.loc[seg["metric"] == "mae_h"]
    return [
        _figure(
            "MAE gap to overall by segment level",
            [
                go.Bar(
                    x=mae["segment"] + ": " + mae["level"],
                    y=mae["gap"],
                    marker_color=np.where(mae["significant"], "#c0392b", "#95a5a6"),
                )
            ],
            "hours vs overall",
        )
    ]


def _drift_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    day = t["daily"]
    if not (len(day) and day["drift_share"].notna().any()):
        return []
    return [
        _figure(
            "Share of features drifted per day",
            [go.Bar(x=day["as_of_date"], y=day["drift_share"] * 100.0, name="drift share")],
            "% of features",
        )
    ]


def _quality_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    quality = t["data_quality"].drop_duplicates("as_of")
    if not len(quality):
        return []
    return [
        _figure(
            "Quarantined share of each day's batch",
            [go.Bar(x=quality["as_of"], y=quality["quarantined_share"] * 100.0)],
            "% of rows",
        )
    ]


def _alert_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    alert_rows = t["alerts"]
    if not len(alert_rows):
        return []
    counts = alert_rows.groupby(["as_of", "severity"]).size().rename("alerts").reset_index()
    return [
        _figure(
            "Alerts per day",
            [go.Bar(x=part["as_of"], y=part["alerts"], name=severity) for severity, part in counts.groupby("severity")],
            "alerts",
        )
    ]


def _benefit_charts(t: Mapping[str, pd.DataFrame]) -> list[Any]:
    ledger = t["benefits"]
    total = ledger.loc[ledger["metric"] == "total_value_eur"]
    if not (len(total) and total["value"].notna().any()):
        return []
    error = {
        "type": "data",
        "symmetric": False,
        "array": (total["value_ci_high_eur"] - total["value"]).tolist(),
        "arrayminus": (total["value"] - total["value_ci_low_eur"]).tolist(),
    }
    traces = [go.Bar(x=total["iso_week"], y=total["value"], name="total value EUR (95% CI)", error_y=error)]
    if total["target"].notna().any():
        traces.append(go.Scatter(x=total["iso_week"], y=total["target"], name="target", mode="lines"))
    return [_figure("Benefit by week against target", traces, "EUR")]


# section key -> its charts (the summary has none)
_SECTION_CHARTS: dict[str, Callable[[Mapping[str, pd.DataFrame]], list[Any]]] = {
    "at_risk": _at_risk_charts,
    "forecast_accuracy": _accuracy_charts,
    "triage_precision": _precision_charts,
    "segments": _segment_charts,
    "drift": _drift_charts,
    "data_quality": _quality_charts,
    "alerts": _alert_charts,
    "benefits": _benefit_charts,
}


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return '<p class="empty">Nothing for this week.</p>'
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column].dtype):
            digits = 4 if column.startswith("p_value") or column.endswith(("share", "prob", "score")) else 2
            shown[column] = shown[column].map(lambda v, d=digits: "" if pd.isna(v) else f"{v:,.{d}f}")
        elif shown[column].dtype == object:  # the summary's mixed values: numbers rounded, text as is
            shown[column] = shown[column].map(
                lambda v: ("" if np.isnan(v) else f"{v:,.2f}") if isinstance(v, float) else v
            )
        elif pd.api.types.is_datetime64_any_dtype(shown[column].dtype):
            fmt = "%Y-%m-%d %H:%M" if str(column).endswith("_at") else "%Y-%m-%d"
            shown[column] = shown[column].dt.strftime(fmt).fillna("")
    return shown.to_html(index=False, escape=True, na_rep="", border=0, classes="data")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1400px}
h1{margin-bottom:.2rem} nav a{margin-right:1rem} section{margin-top:2.5rem}
table.data{border-collapse:collapse;font-size:.85rem;display:block;overflow:auto;max-height:36rem}
table.data th{background:#305496;color:#fff;position:sticky;top:0;padding:.3rem .5rem;text-align:left}
table.data td{border-bottom:1px solid #ddd;padding:.25rem .5rem;white-space:nowrap}
.meta{color:#666} .empty{color:#888;font-style:italic}
"""


def render_html(report: WeeklyReport) -> str:
    """The report as one self-contained HTML page: the same tables, plotly charts, plotly.js inlined once."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    charts = _charts(report)
    esc = html.escape
    title = f"JourneyOps weekly report {report.week.label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style>",
        # plotly.js once, inline: the page must work offline (no CDN)
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(report.week.start.isoformat())} to {esc(report.week.end.isoformat())}; outcomes '
        f"judged at {esc(report.as_of.isoformat(sep=' '))} UTC; generated {esc(report.generated_at.isoformat(sep=' ', timespec='seconds'))} UTC</p>",  # noqa: E501
        "<nav>" + "".join(f'<a href="#{key}">{esc(name)}</a>' for key, name in SECTIONS.items()) + "</nav>",
    ]
    for key, name in SECTIONS.items():
        parts.append(f'<section id="{key}"><h2>{esc(name)}</h2>')
        for fig in charts[key]:
            parts.append(
                pio.to_html(
                    fig,
                    full_html=False,
                    include_plotlyjs=False,
                    config={"displaylogo": False, "responsive": True},
                )
            )
        parts.append(_html_table(report.tables[key]))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
