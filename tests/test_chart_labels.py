"""Every chart names its categories, axes and legend in words: stages, features, metrics and segments
arrive as storage names and leave through ui.display."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from core.monitor import triage_effect
from ui import charts, monitor_charts, worklist
from ui import models as ui_models

DAY = date(2026, 7, 13)


def test_the_process_charts_name_stages_in_words():
    dwell = pd.DataFrame(
        {
            "stage": ["placed", "payment_hold"],
            **{c: [1.0, 2.0] for c in ("p05_h", "p25_h", "median_h", "p75_h", "p95_h", "mean_h")},
            "dwells": [3, 4],
        }
    )
    assert list(charts.dwell_box(dwell).data[0].y) == ["Placed", "Payment hold"]
    wip = pd.DataFrame({"day": [DAY, DAY], "stage": ["out_for_delivery", "placed"], "cases": [2, 5]})
    figure = charts.wip_area(wip, ["placed", "out_for_delivery"])
    assert [trace.name for trace in figure.data] == ["Placed", "Out for delivery"]
    assert figure.data[1].line.color == charts.STAGE_COLORS["out_for_delivery"]  # colours still by stage
    weeks = pd.DataFrame(
        {"stage": ["stock_shortage"], "iso_week": ["2026-W28"], "vs_usual_ratio": [1.5], "median_h": [3.0]}
    )
    assert list(charts.slowdown_heatmap(weeks, ["stock_shortage"]).data[0].y) == ["Stock shortage"]


def test_an_orders_journey_names_its_stages_in_words():
    journey = pd.DataFrame(
        {
            "stage": ["placed", "payment_confirmed"],
            "event_at": pd.to_datetime(["2026-07-12 09:00", "2026-07-12 10:00"]),
            "hours_in_stage_h": [1.0, 5.0],
            "is_current": [False, True],
        }
    )
    assert list(worklist.timeline_chart(journey).data[0].y) == ["Placed", "Payment confirmed"]


def test_the_drift_heatmap_names_features_in_words():
    rows = pd.DataFrame(
        {
            "role": ["feature", "feature", "prediction"],
            "column": ["to_promise_h", "wip_carrier", "p50_h"],
            "as_of": [DAY, DAY, DAY],
            "score_vs_threshold": [0.5, 1.5, 0.2],
            "drifted": [False, True, False],
        }
    )
    assert list(monitor_charts.drift_heatmap(rows, "feature").data[0].y) == ["To promise (h)", "WIP carrier"]
    assert list(monitor_charts.drift_heatmap(rows, "prediction").data[0].y) == ["P50 (h)"]


def test_the_gap_chart_names_segments_and_its_metric_in_words():
    table = pd.DataFrame(
        {
            "metric": ["mae_h", "mae_h"],
            "segment": ["customer_tier", "carrier"],
            "level": ["vip", "swiftpost"],
            "significant": [True, False],
            "gap": [1.0, -0.5],
            "orders": [10, 20],
            "p_value": [0.01, 0.4],
            "p_value_adjusted": [0.02, 0.6],
        }
    )
    figure = monitor_charts.gap_chart(table, "mae_h")
    assert list(figure.data[0].y) == ["Customer tier: vip", "Carrier: swiftpost"]
    assert figure.layout.xaxis.title.text == "gap to overall, MAE (h)"


def test_the_holdout_chart_names_metrics_in_words():
    holdout = pd.DataFrame(
        {
            "iso_week": [triage_effect.ALL_WEEKS] * 3 + ["2026-W28"],
            "metric": ["sla_breach_pct", "late_h", "triage_value_eur", "stuck_pct"],
            **{c: [1.0, 2.0, 3.0, 4.0] for c in ("effect", "effect_ci_low", "effect_ci_high")},
            **{c: [1.0, 2.0, 3.0, 4.0] for c in ("treated_value", "held_out_value")},
            "unit": ["%", "h", "€", "%"],
        }
    )
    assert list(monitor_charts.holdout_chart(holdout).data[0].y) == ["SLA breaches (%)", "Late (h)"]


def test_the_models_segment_chart_names_segments_in_words():
    gate = {
        "version": "forecaster-v2",
        "champion_version": "forecaster-v1",
        "segments": {
            "challenger": {"ship_mode": {"express": {"n": 5, "business_cost": 1.0}}},
            "champion": {"ship_mode": {"express": {"n": 5, "business_cost": 1.2}}},
        },
    }
    figure = ui_models.segment_chart(gate)
    assert [list(trace.y) for trace in figure.data] == [["Ship mode: express"], ["Ship mode: express"]]


def test_a_daily_axis_ticks_days_and_pads_a_lone_day():
    lone = monitor_charts.days_axis(go.Figure(), pd.Series([DAY]))
    assert (lone.layout.xaxis.tickformat, lone.layout.xaxis.dtick) == ("%-d %b", monitor_charts.DAY_MS)
    assert [pd.Timestamp(x) for x in lone.layout.xaxis.range] == [
        pd.Timestamp("2026-07-12"),
        pd.Timestamp("2026-07-14"),
    ]
    season = monitor_charts.days_axis(go.Figure(), pd.Series(pd.date_range("2026-05-01", periods=60)))
    assert (season.layout.xaxis.dtick, season.layout.xaxis.range) == (None, None)  # plotly spaces the ticks
    assert monitor_charts.days_axis(go.Figure(), pd.Series([], dtype=object)).layout.xaxis.type is None
