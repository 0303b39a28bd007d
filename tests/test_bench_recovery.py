"""The `recovery` bench case's figures, on a tiny hand-made store (the 100-day build is the bench's own
set-up): promotions after the scenario, scheduled retrains per 7 days, artifact size, the carrier
coverage range, and the block it writes into docs/forecasting.md, which model-report keeps."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bench import recovery
from core import config
from core.models import doc_blocks, report
from core.registry import promotion
from tests import test_registry
from tests.fixtures import write_events
from tests.fixtures_worklist import write_daily_tables

FIRST = date(2026, 3, 1)
DAYS = [FIRST + timedelta(days=i) for i in range(14)]
# day -> why the run retrained: two schedules 6 days apart, an alert in between (a trigger: not counted)
REASONS = {
    date(2026, 3, 2): "schedule: 7 days since the last retrain (every 7)",
    date(2026, 3, 5): "alert: accuracy_decay",
    date(2026, 3, 8): "schedule: 7 days since the last retrain (every 7)",
}
REPORT = {
    "since": "2026-03-01",
    "matured_mornings": ["2026-03-01", "2026-03-02", "2026-03-03"],
    "live": {"forecasts": 900, "mae_h": 21.0, "bias_h": -1.5, "coverage_80_pct": 79.5, "after_p50_pct": 51.0},
    "carriers": {
        "fastship": {"forecasts": 500, "mae_h": 20.0, "bias_h": -1.0, "coverage_80_pct": 80.5, "after_p50_pct": 50.0},
        "newco": {"forecasts": 250, "mae_h": 25.0, "bias_h": -4.0, "coverage_80_pct": 77.4, "after_p50_pct": 56.0},
        "tiny": {"forecasts": 150, "mae_h": 19.0, "bias_h": 2.0, "coverage_80_pct": 60.0, "after_p50_pct": 40.0},
    },
    "hindsight": {
        "forecasts": 900,
        "mae_h": 20.4,
        "live_mae_h": 21.0,
        "live_over_hindsight": 21.0 / 20.4,
        "folds": 2,
        "in_sample": {"forecasts": 900, "mae_h": 19.6, "live_mae_h": 21.0, "live_over_hindsight": 21.0 / 19.6},
    },
}


def build_store(store_file: Path) -> Path:
    """v1 serves from 1 March, v2 (promoted) from 9 March, v3 rejected; the marker of a scenario on 5 March."""
    write_events(store_file, [("A", "placed", "2026-03-01 08:00")])
    model, _ = test_registry.fit_tiny_forecaster()
    for number, promote in ((1, True), (2, True), (3, False)):
        version = test_registry.register(store_file, model, cost=10.0 - number)
        if promote:
            promotion.promote(
                version.version_id,
                actor="loop",
                reason="gate",
                store_path=store_file,
                expected_champion=f"forecaster-v{number - 1}" if number > 1 else None,
            )
        else:
            promotion.reject(version.version_id, actor="loop", reason="worse", store_path=store_file)
    summary = pd.DataFrame(
        {
            "as_of_date": DAYS,
            "as_of_at": [datetime.combine(d + timedelta(days=1), datetime.min.time()) for d in DAYS],
            "forecaster_version": ["forecaster-v1" if d <= date(2026, 3, 8) else "forecaster-v2" for d in DAYS],
            "retrain_reason": [REASONS.get(d) for d in DAYS],
            "eta_source": "model",
            "open_orders": 0,
            "listed": 0,
            "held_out": 0,
            "sim_actions": 0,
            "alerts": 0,
            "computed_at": datetime(2026, 3, 15),
        }
    )
    write_daily_tables(store_file, predictions=pd.DataFrame(), lists=pd.DataFrame(), summary=summary)
    store_file.with_name("demo.json").write_text(
        json.dumps(
            {
                "params": {"days": 14, "orders_per_day": 1, "seed": 11},
                "outcome": {"scenarios": ["new_carrier@2026-03-05"]},
            }
        )
    )
    return store_file


@pytest.fixture
def recovery_store(store_file: Path) -> Path:
    return build_store(store_file)


def test_the_figures_of_the_done_criteria(recovery_store):
    start = recovery.scenario_start(recovery_store)
    assert start == date(2026, 3, 5)
    figures = recovery.recovery_figures(recovery_store, REPORT, start)
    skops = sorted(config.models_dir(recovery_store).rglob("*.skops"))
    assert len(skops) == 3
    assert figures["artifacts_mb"] == sum(p.stat().st_size for p in skops) / 1e6
    assert {
        k: figures[k]
        for k in (
            "forecasts",
            "matured_mornings",
            "live_mae_h",
            "hindsight_mae_h",
            "live_over_hindsight",
            "in_sample_mae_h",
            "live_over_in_sample",
            "coverage_80_pct",
            "after_p50_pct",
        )
    } == {
        "forecasts": 900,
        "matured_mornings": 3,
        "live_mae_h": 21.0,
        "hindsight_mae_h": 20.4,
        "live_over_hindsight": 21.0 / 20.4,
        "in_sample_mae_h": 19.6,
        "live_over_in_sample": 21.0 / 19.6,
        "coverage_80_pct": 79.5,
        "after_p50_pct": 51.0,
    }
    # carriers with at least 200 matured forecasts only: `tiny` (150) is left out of the range
    assert (figures["carrier_coverage_min_pct"], figures["carrier_coverage_max_pct"]) == (77.4, 80.5)
    # v1 served from 1 March, before the scenario; v2 from 9 March, after it; v3 was never promoted
    assert figures["promotions_after_scenario"] == 1
    # 2 and 8 March fall in one 7-day span; the alert's retrain is a trigger
    assert figures["scheduled_retrains_per_7_days"] == 2


def test_promotions_count_from_the_day_a_version_first_served(recovery_store):
    assert recovery.promotions_after(recovery_store, date(2026, 3, 9)) == 1
    assert recovery.promotions_after(recovery_store, date(2026, 3, 10)) == 0
    assert recovery.promotions_after(recovery_store, date(2026, 3, 1)) == 2
    assert recovery.promotions_after(recovery_store, None) == 0


def test_schedules_a_week_apart_count_once_per_week(store_file):
    build_store(store_file)
    from core import store

    with store.transaction(store_file) as con:
        con.execute("update daily_summary set retrain_reason = null where as_of_date = date '2026-03-08'")
        con.execute("update daily_summary set retrain_reason = 'schedule: 7' where as_of_date = date '2026-03-09'")
    assert recovery.scheduled_retrains_per_week(store_file) == 1


def test_the_docs_block_is_written_in_place_and_kept_by_model_report(recovery_store, tmp_path):
    page = tmp_path / "forecasting.md"
    page.write_text("# Forecasting\n\nfigures\n\n## Method\n\n- features\n")
    figures = recovery.recovery_figures(recovery_store, REPORT, recovery.scenario_start(recovery_store))
    recovery.write_docs_block(figures, "`demo --days 14`", page)
    text = page.read_text()
    assert text.index("<!-- recovery:begin -->") < text.index("<!-- recovery:end -->") < text.index("## Method")
    assert "| live MAE / cross-fitted hindsight-refit MAE | 21.0 h / 20.4 h = 1.029 | ≤ 1.05 | met |" in text
    assert "| live MAE / in-sample refit MAE | 21.0 h / 19.6 h = 1.071 | | |" in text
    assert "cross-fitted over 2 groups of orders" in text
    assert "| per carrier (≥ 200 forecasts), lowest – highest | 77.4% – 80.5% | 77–84% | met |" in text
    assert "| scheduled retrains without a trigger, most in 7 days | 2 | ≤ 1 | **not met** |" in text
    assert "| newco | 250 | 25.0 | -4.0 | 77.4% | 56.0% |" in text

    recovery.write_docs_block({**figures, "coverage_80_pct": 83.0}, "`demo --days 14`", page)
    again = page.read_text()
    assert again.count("<!-- recovery:begin -->") == 1
    assert "| 80% interval coverage | 83.0% | 78–82% | **not met** |" in again

    # model-report regenerates the page around the block and keeps it
    report.write_model_report(None, page, logs=[])
    regenerated = page.read_text()
    assert doc_blocks.find_blocks(regenerated)["recovery"] == doc_blocks.find_blocks(again)["recovery"]
    assert "figures\n" not in regenerated  # the rest was regenerated


def test_blocks_are_replaced_in_place_or_appended():
    assert doc_blocks.replace_block("# T\n", "x", "one") == "# T\n\n<!-- x:begin -->\none\n<!-- x:end -->\n"
    text = "# T\n\n<!-- x:begin -->\nold\n<!-- x:end -->\n\n## Method\n"
    assert doc_blocks.replace_block(text, "x", "new") == "# T\n\n<!-- x:begin -->\nnew\n<!-- x:end -->\n\n## Method\n"
    assert doc_blocks.keep_blocks("# New\n\n## Method\n", text) == (
        "# New\n\n<!-- x:begin -->\nold\n<!-- x:end -->\n\n## Method\n"
    )
    assert doc_blocks.keep_blocks("# New\n", "# Old, no block\n") == "# New\n"
