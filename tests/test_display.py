"""The display layer: labels, units as formats, storage words in words, times in the viewer's zone,
widths that fit the page."""

from __future__ import annotations

import pandas as pd
import pytest

from core import config
from ui import display


@pytest.mark.parametrize(
    ("name", "label", "unit"),
    [
        ("coverage_80_pct", "80% interval coverage", "pct"),
        ("cost_per_forecast_eur", "Cost per forecast", "eur"),
        ("interval_width_h", "Interval width", "h"),
        ("welch_t", "Welch t", "num"),
        ("median_journey_days", "Median journey", "days"),
        ("last_started_at", "Last started", "datetime"),
        ("holdout_mae_h", "Holdout MAE", "h"),
        ("eta_p50_at", "ETA p50", "datetime"),
    ],
)
def test_a_storage_name_gets_a_label_and_a_unit(name, label, unit):
    assert (display.label_of(name), display.unit_of(name)) == (label, unit)


def test_every_shown_column_has_a_config_and_a_format():
    frame = pd.DataFrame(
        {
            "mae_h": [1.25, None],
            "quarantined_pct": [12.5, 0.0],
            "cost_per_forecast_eur": [0.73, 1.2],
            "orders": [3, 4],
            "acted_at": pd.to_datetime(["2026-03-10 09:00", None]),
        }
    )
    shown, configs, order = display.table_config(frame, tz="UTC")
    assert order == list(frame.columns)
    assert {k: c["label"] for k, c in configs.items()} == {
        "mae_h": "MAE",
        "quarantined_pct": "Quarantined",
        "cost_per_forecast_eur": "Cost per forecast",
        "orders": "Orders",
        "acted_at": "Acted",
    }
    assert [configs[k]["type_config"].get("format") for k in order] == [
        "%.1f h",
        "%.1f%%",
        "€%.2f",
        "%d",
        "D MMM YYYY, HH:mm",
    ]
    assert configs["mae_h"]["help"] == "Mean absolute error of the p50 ETA."
    assert configs["acted_at"]["help"] == "Times in UTC."


def test_the_page_override_wins_and_keeps_its_width():
    frame = pd.DataFrame({"rank": [1], "path": ["a → b"]})
    overrides = {"path": {"label": "path", "width": 590, "type_config": {"type": "text"}}}
    _shown, configs, _order = display.table_config(frame, overrides, tz="UTC")
    assert (configs["path"]["label"], configs["path"]["width"]) == ("path", 590)
    assert configs["rank"]["label"] == "Rank"


def test_storage_words_in_cells_become_words():
    frame = pd.DataFrame(
        {"metric": ["orders", "lead_time_h", "contacts_per_1000_orders"], "carrier": ["fastship", "budgetbox", None]}
    )
    shown = display.prepare(frame, "UTC")
    assert shown["metric"].tolist() == ["Orders", "Lead time (h)", "Contacts per 1,000 orders"]
    assert shown["carrier"].tolist() == ["fastship", "budgetbox", None]  # names, not storage words
    assert display.show_value("chased_carrier") == "Chased carrier"
    assert display.show_value("forecaster-v1") == "forecaster-v1"


def test_times_show_in_the_viewers_zone(monkeypatch):
    frame = pd.DataFrame({"acted_at": pd.to_datetime(["2026-03-10 09:00"])})  # the store keeps UTC, naive
    shown = display.prepare(frame, "Europe/Berlin")
    assert shown.loc[0, "acted_at"] == pd.Timestamp("2026-03-10 10:00", tz="Europe/Berlin")
    monkeypatch.setenv("JOURNEYOPS_DISPLAY_TZ", "Europe/Berlin")
    assert display.display_timezone() == "Europe/Berlin"
    _shown, configs, _order = display.table_config(frame)
    assert configs["acted_at"]["type_config"]["timezone"] == "Europe/Berlin"
    monkeypatch.setenv("JOURNEYOPS_DISPLAY_TZ", "Mars/Olympus")
    assert config.display_timezone() == "UTC"
    monkeypatch.delenv("JOURNEYOPS_DISPLAY_TZ")
    assert config.display_timezone() == "UTC"


def test_widths_fit_the_page():
    frame = pd.DataFrame({f"figure_{i}_h": [1234.5] for i in range(14)} | {"note": ["x" * 200]})
    widths = display.fit_widths(frame, budget_px=900)
    assert sum(widths.values()) <= 900
    assert min(widths.values()) >= display.MIN_WIDTH_PX
    narrow = display.fit_widths(pd.DataFrame({"n": [1], "name": ["ab"]}), budget_px=900)
    assert narrow == {"n": 63, "name": 56}  # under the budget: as wide as the content, no wider


def test_targets_against_actuals_draws_both_per_metric_with_a_target():
    from ui import charts

    ledger = pd.DataFrame(
        {
            "period": ["baseline", "live", "live", "live", "live"],
            "iso_week": ["2026-W10", "2026-W11", "2026-W12", "2026-W11", "2026-W12"],
            "metric": ["sla_breach_pct", "sla_breach_pct", "sla_breach_pct", "orders", "orders"],
            "value": [9.0, 7.0, 6.0, 100.0, 120.0],
            "target": [5.0, 5.0, 5.0, None, None],
        }
    )
    figure = charts.targets_chart(ledger)
    assert figure is not None
    assert sorted((t.name, tuple(t.x), tuple(t.y)) for t in figure.data) == [
        ("actual", ("2026-W11", "2026-W12"), (7.0, 6.0)),
        ("target", ("2026-W11", "2026-W12"), (5.0, 5.0)),
    ]
    assert [a.text for a in figure.layout.annotations] == ["SLA breaches (%)"]
    assert charts.targets_chart(ledger.assign(target=None)) is None


def test_a_flexible_column_takes_the_room_the_others_leave():
    frame = pd.DataFrame({"order_id": ["O0004654"], "reasons": ["in shipped for 12 h; carrier slower than usual" * 3]})
    widths = display.fit_widths(frame, budget_px=900, flexible=["reasons"])
    assert widths == {"order_id": 86, "reasons": 900 - 86}
    _shown, configs, _order = display.table_config(frame, {"reasons": {"width": "large"}}, tz="UTC")
    assert configs["reasons"]["width"] == 900 - 86


def test_chart_categories_read_as_words():
    names = ["payment_hold", "placed", "to_promise_h", "wip_carrier", "stuck_prob", "2026-W23", "A_SUBMITTED", None]
    assert display.chart_words(names) == [
        "Payment hold",
        "Placed",
        "To promise (h)",
        "WIP carrier",
        "P(stuck)",
        "2026-W23",
        "A_SUBMITTED",
        None,
    ]


def test_a_segment_level_names_its_segment_in_words():
    assert display.level_label("customer_tier", "vip") == "Customer tier: vip"
    assert display.level_label("carrier", "swiftpost") == "Carrier: swiftpost"


def test_a_path_shows_each_stage_in_words():
    assert display.show_value("placed → payment_hold → delivered") == "Placed → Payment hold → Delivered"
    assert display.show_value("Register → A_SUBMITTED") == "Register → A_SUBMITTED"
    shown = display.prepare(pd.DataFrame({"path": ["placed → out_for_delivery"]}), tz="UTC")
    assert shown["path"].tolist() == ["Placed → Out for delivery"]
