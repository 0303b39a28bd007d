"""The Models page compares champion and challenger on the same rows: the gate's figures from the
challenger's record, the live shadow comparison, each model's age and windows, the champion's latest
interval corrections — in core (by hand) and on the page (AppTest shows exactly core's values)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import store
from core.registry import promotion, registration, versions
from core.views import models as model_views
from tests import test_registry
from tests.conftest import REPO_ROOT
from tests.fixtures import write_events
from tests.fixtures_worklist import write_daily_tables

PAGE = REPO_ROOT / "pages" / "models.py"
MORNINGS = [date(2026, 3, 2), date(2026, 3, 3)]
LAST_DAY = date(2026, 3, 5)  # a run without shadow rows: by its end every order is delivered
LAST_RUN_END = datetime(2026, 3, 6)
HASH = "ab" * 32
# order -> (placed, delivered); every order of both mornings is delivered: both mornings matured
ORDERS = {
    "A": ("2026-03-01 08:00", "2026-03-04 08:00"),
    "B": ("2026-03-01 09:00", "2026-03-03 12:00"),
    "C": ("2026-03-02 10:00", "2026-03-05 00:00"),
}
# (morning, order, champion p50, challenger p50); the morning's instant is its end (midnight after)
P50S = [
    (MORNINGS[0], "A", 40.0, 50.0),
    (MORNINGS[0], "B", 30.0, 36.0),
    (MORNINGS[1], "A", 20.0, 26.0),
    (MORNINGS[1], "C", 30.0, 25.0),
]


def _evaluation(cost: float, mae: float, coverage: float, n: int = 500, rows_hash: str = HASH) -> dict:
    return {
        "kind": "forecaster",
        "n": n,
        "rows_hash": rows_hash,
        "business_cost": cost,
        "metrics": {"mae_h": mae, "mean_error_h": -mae / 4, "coverage_80": coverage, "interval_width_h": 3 * mae},
        "segments": {"carrier": {"dhl": {"n": 300, "business_cost": cost * 1.1}}},
    }


def _register(store_file: Path, model, as_of: str, evaluation: dict) -> versions.ModelVersion:
    backtest = {
        "as_of": as_of,
        "evaluated_window": ["2026-01-01T00:00:00", "2026-02-10T00:00:00"],
        "deployed_window": ["2026-01-01T00:00:00", "2026-02-24T00:00:00"],
    }
    return registration.register_version(
        "forecaster",
        model,
        training_window=["2026-01-01T00:00:00", "2026-02-24T00:00:00"],
        feature_columns=["carrier", "elapsed_h"],
        metrics={**evaluation["metrics"], "mae_days": evaluation["metrics"]["mae_h"] / 24},
        backtest=backtest,
        evaluation=evaluation,
        store_path=store_file,
    )


def build_store(store_file: Path) -> Path:
    """v1 the champion (trained 24 Feb); v2 trained 1 Mar, judged beside v1 on the same 500 rows and in
    shadow for two mornings; interval corrections of v1 on two days and of v2 on one."""
    events = [(o, "placed", placed) for o, (placed, _) in ORDERS.items()]
    events += [(o, "delivered", delivered) for o, (_, delivered) in ORDERS.items()]
    write_events(store_file, events)
    model, _ = test_registry.fit_tiny_forecaster()
    first = _register(store_file, model, "2026-02-25T00:00:00", _evaluation(6.0, 20.0, 0.70))
    promotion.promote(first.version_id, actor="ana", reason="go-live", expected_champion=None, store_path=store_file)
    _register(
        store_file,
        model,
        "2026-03-02T00:00:00",
        {
            **_evaluation(5.0, 18.0, 0.79),
            "champion_on_same_rows": _evaluation(6.2, 21.0, 0.74),
            "baseline_on_same_rows": _evaluation(7.5, 25.0, 0.81),
        },
    )
    rows = []
    for morning, order, champion_p50, challenger_p50 in P50S:
        at = datetime.combine(morning + timedelta(days=1), datetime.min.time())
        for role, version, p50 in (
            ("champion", "forecaster-v1", champion_p50),
            ("challenger", "forecaster-v2", challenger_p50),
        ):
            rows.append(
                {
                    "as_of_date": morning,
                    "as_of_at": at,
                    "order_id": order,
                    "role": role,
                    "forecaster_version": version,
                    "p10_h": p50 - 10,
                    "p50_h": p50 + 1,
                    "p90_h": p50 + 10,
                    "model_p10_h": p50 - 10,
                    "model_p50_h": p50,
                    "model_p90_h": p50 + 10,
                    "scored_at": LAST_RUN_END,
                }
            )
    summary = pd.DataFrame(
        {
            "as_of_date": [*MORNINGS, LAST_DAY],
            "as_of_at": [datetime(2026, 3, 3), datetime(2026, 3, 4), LAST_RUN_END],
            "forecaster_version": "forecaster-v1",
            "challenger_forecaster_version": "forecaster-v2",
            "eta_source": "model",
            "open_orders": 0,
            "listed": 0,
            "held_out": 0,
            "sim_actions": 0,
            "alerts": 0,
            "computed_at": LAST_RUN_END,
        }
    )
    write_daily_tables(store_file, predictions=pd.DataFrame(rows), lists=pd.DataFrame(), summary=summary)
    corrections = pd.DataFrame(
        [
            (MORNINGS[0], "forecaster-v1", "*", 90, 60, 0.9, 1.05, 1.2),
            (MORNINGS[1], "forecaster-v1", "*", 120, 80, 0.8, 1.1, 1.4),
            (MORNINGS[1], "forecaster-v1", "dhl", 70, 50, 0.7, 1.15, 1.65),
            (MORNINGS[1], "forecaster-v1", "ups", 50, 30, 0.85, 1.0, 1.3),
            (MORNINGS[1], "forecaster-v1", "ups / in_transit / WH-1", 50, 30, 0.8, 1.1, 1.2),
            (MORNINGS[1], "forecaster-v2", "*", 120, 80, 1.9, 1.9, 1.9),
        ],
        columns=[
            "as_of_date",
            "forecaster_version",
            "value",
            "forecasts",
            "delivered",
            "scale_p10",
            "scale_p50",
            "scale_p90",
        ],
    ).assign(computed_at=LAST_RUN_END)
    # The levels the tails were estimated at, one pair per day: kept from MORNINGS[1] on, as after
    # schema 16 (the day before has none, as a day of an older store).
    latest = corrections["as_of_date"] == MORNINGS[1]
    corrections["level_p10"] = np.where(latest, 0.06, np.nan)
    corrections["level_p90"] = np.where(latest, 0.93, np.nan)
    nested = corrections["value"].str.contains(" / ")
    corrections["segment"] = np.where(nested, "carrier / current_stage / warehouse", "carrier")
    with store.transaction(store_file) as con:
        con.register("new_rows", corrections)
        con.execute("insert into interval_calibration by name select * from new_rows")
    return store_file


@pytest.fixture
def models_store(store_file: Path) -> Path:
    return build_store(store_file)


def test_the_gate_figures_are_the_challengers_record_on_its_own_rows(models_store):
    compared = model_views.compare_models("forecaster", "forecaster-v1", "forecaster-v2", models_store)
    gate = compared["gate"]
    assert (gate["version"], gate["champion_version"], gate["n"], gate["rows_hash"], gate["same_rows"]) == (
        "forecaster-v2",
        "forecaster-v1",
        500,
        HASH,
        True,
    )
    # the champion on the challenger's rows (6.2), not its own go-live backtest (6.0)
    assert gate["champion"]["business_cost"] == 6.2 and gate["champion"]["mae_h"] == 21.0
    assert gate["challenger"] == {
        "n": 500,
        "business_cost": 5.0,
        "mae_h": 18.0,
        "mean_error_h": -4.5,
        "coverage_80": 0.79,
        "interval_width_h": 54.0,
        "pr_auc": None,
        "roc_auc": None,
    }
    assert gate["baseline"]["business_cost"] == 7.5


def test_other_rows_are_flagged(models_store):
    version = versions.get_version("forecaster-v2", models_store)
    other = {**version.evaluation, "champion_on_same_rows": _evaluation(6.2, 21.0, 0.74, rows_hash="cd" * 32)}
    gate = model_views.gate_comparison(versions.ModelVersion(**{**version.__dict__, "evaluation": other}), models_store)
    assert gate is not None and gate["same_rows"] is False


def test_the_live_shadow_comparison_by_hand(models_store):
    shadow = model_views.compare_models("forecaster", "forecaster-v1", "forecaster-v2", models_store)["shadow"]
    assert (shadow["version"], shadow["shadow_mornings"], shadow["matured_mornings"], shadow["n"]) == (
        "forecaster-v2",
        2,
        2,
        4,
    )
    # hours to delivery from each morning's end: A 32, B 12 (from 3 Mar 00:00); A 8, C 24 (from 4 Mar 00:00)
    actual = np.array([32.0, 12.0, 8.0, 24.0])
    champion = np.array([40.0, 30.0, 20.0, 30.0])  # the models' own p50s (model_p50_h), not the calibrated ones
    challenger = np.array([50.0, 36.0, 26.0, 25.0])
    assert shadow["champion"]["mae_h"] == pytest.approx(np.abs(actual - champion).mean())  # 11.0
    assert shadow["challenger"]["mae_h"] == pytest.approx(np.abs(actual - challenger).mean())  # 15.25
    assert shadow["first_morning"] == MORNINGS[0] and len(shadow["rows_hash"]) == 64


def test_age_windows_and_the_latest_corrections(models_store):
    compared = model_views.compare_models("forecaster", "forecaster-v1", "forecaster-v2", models_store)
    assert compared["at"] == LAST_RUN_END
    champion, challenger = compared["cards"]["champion"], compared["cards"]["challenger"]
    assert (champion["age_days"], challenger["age_days"]) == (9.0, 4.0)  # 25 Feb and 2 Mar to 6 Mar
    assert champion["evaluated_window"] == ["2026-01-01T00:00:00", "2026-02-10T00:00:00"]
    assert champion["deployed_window"] == ["2026-01-01T00:00:00", "2026-02-24T00:00:00"]
    assert champion["holdout_mae_days"] == pytest.approx(20.0 / 24)
    corrections = compared["corrections"]
    # v1's latest day only, overall first, then per carrier and per stage within a carrier
    assert corrections["value"].tolist() == ["*", "dhl", "ups", "ups / in_transit / WH-1"]
    assert corrections["scale_p90"].tolist() == [1.4, 1.65, 1.3, 1.2]
    assert corrections[["level_p10", "level_p90"]].drop_duplicates().values.tolist() == [[0.06, 0.93]]
    assert set(pd.to_datetime(corrections["as_of_date"]).dt.date) == {MORNINGS[1]}


def test_nothing_in_shadow_without_a_newer_candidate(models_store):
    promotion.reject("forecaster-v2", actor="ana", reason="no", store_path=models_store)
    assert model_views.shadow_candidate("forecaster", models_store) is None
    assert model_views.shadow_candidate("stuck_classifier", models_store) is None


def test_the_page_shows_exactly_the_figures_of_core(models_store, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_STORE", str(models_store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")
    at = AppTest.from_file(str(PAGE), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    compared = model_views.compare_models("forecaster", "forecaster-v1", "forecaster-v2", models_store)
    tables = [d.value for d in at.dataframe]
    cards, gate, shadow, corrections = tables[1], tables[2], tables[3], tables[5]

    assert cards["version"].tolist() == ["forecaster-v1", "forecaster-v2"]
    assert cards["age_days"].tolist() == [compared["cards"][r]["age_days"] for r in ("champion", "challenger")]
    assert cards["holdout_mae_h"].tolist() == pytest.approx([20.0, 18.0])
    assert cards["evaluated_window"].tolist() == ["01 Jan 2026 00:00 → 10 Feb 2026 00:00"] * 2

    judged = compared["gate"]
    assert gate["model"].tolist() == ["forecaster-v2", "champion then (forecaster-v1)", "baseline"]
    assert gate["business_cost"].tolist() == [
        judged[r]["business_cost"] for r in ("challenger", "champion", "baseline")
    ]
    assert gate["mae_h"].tolist() == [judged[r]["mae_h"] for r in ("challenger", "champion", "baseline")]
    assert gate["coverage_80"].tolist() == pytest.approx([79.0, 74.0, 81.0])
    assert gate["n"].tolist() == [500, 500, 500]
    assert any(
        f"500 holdout forecasts (rows {HASH[:12]})" in c.value and "the same rows for all three" in c.value
        for c in at.caption
    )

    live = compared["shadow"]
    assert shadow["model"].tolist() == ["forecaster-v2 (in shadow)", "forecaster-v1 (champion)"]
    assert shadow["mae_h"].tolist() == [live["challenger"]["mae_h"], live["champion"]["mae_h"]]
    assert shadow["business_cost"].tolist() == [live["challenger"]["business_cost"], live["champion"]["business_cost"]]
    assert any("in shadow for 2 morning(s), 2 of them matured: 4 delivered forecasts" in c.value for c in at.caption)

    assert corrections["value"].tolist() == ["every order", "dhl", "ups"]  # stages within a carrier: counted
    assert corrections["scale_p50"].tolist() == compared["corrections"]["scale_p50"].tolist()[:3]
    assert any("a correction per current stage refines these (1 in all;" in c.value for c in at.caption)
    assert any("The p10 and p90 were estimated at the 6% and 93% levels" in c.value for c in at.caption)


def test_a_day_without_recorded_levels_names_none(models_store):
    from ui import models as ui_models

    latest = model_views.interval_corrections("forecaster-v1", models_store)
    assert "levels" in ui_models.corrections_caption(latest)
    older = latest.assign(level_p10=np.nan, level_p90=np.nan)  # a day of a store before schema 16
    caption = ui_models.corrections_caption(older)
    assert "levels" not in caption and caption.endswith("leans on its carrier's).")
