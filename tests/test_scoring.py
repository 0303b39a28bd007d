"""Scoring helpers: the ETA quantile, interpolation, feature groups and honest per-order reasons."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from core.domain import CostAssumptions
from core.models import estimators
from core.scoring import batch


def test_eta_quantile_is_the_newsvendor_ratio_of_the_costs() -> None:
    assert batch.eta_quantile(CostAssumptions()) == pytest.approx(4.0 / 5.5)
    assert batch.eta_quantile(CostAssumptions(late_cost_per_day=1.0, early_promise_cost_per_day=1.0)) == 0.5


def test_quantile_hours_interpolate_between_the_forecast_quantiles() -> None:
    scores = pd.DataFrame({"p10_h": [10.0, 0.0], "p50_h": [20.0, 4.0], "p90_h": [60.0, 8.0]})
    assert batch.quantile_hours(scores, 0.5).tolist() == [20.0, 4.0]
    assert batch.quantile_hours(scores, 0.7).tolist() == pytest.approx([40.0, 6.0])
    assert batch.quantile_hours(scores, 0.3).tolist() == pytest.approx([15.0, 2.0])
    assert batch.quantile_hours(scores, 0.99).tolist() == [60.0, 8.0]


def test_feature_groups_keep_sets_together() -> None:
    groups = batch.feature_groups(
        ["carrier", "prev_stage_1", "prev_stage_2", "count__placed", "count__packed", "time_in_stage_h", "elapsed_h"]
    )
    assert groups == {
        "recent stages": ["prev_stage_1", "prev_stage_2"],
        "time in the current stage": ["time_in_stage_h"],
        "stages visited so far": ["count__placed", "count__packed"],
        "carrier": ["carrier"],
        "elapsed_h": ["elapsed_h"],
    }


def test_typical_values_are_median_and_mode() -> None:
    reference = pd.DataFrame({"x": [1.0, 2.0, 10.0], "c": ["a", "b", "b"]})
    assert batch.typical_values(reference, ["c"], ["x"]) == {"x": 2.0, "c": "b"}


def toy_classifier() -> object:
    """Stuck depends on `delay_h` and on carrier `slow`; `noise` carries nothing."""
    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame(
        {
            "carrier": rng.choice(["fast", "slow"], n, p=[0.8, 0.2]).astype(object),
            "delay_h": rng.exponential(10.0, n),
            "noise": rng.normal(size=n),
        }
    )
    logit = -4.0 + 0.25 * frame["delay_h"] + 2.0 * (frame["carrier"] == "slow")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = estimators.make_classifier(["carrier"], ["delay_h", "noise"], max_iter=30)
    with threadpool_limits(1):
        model.fit(frame, y, model__calibration_mask=np.arange(n) >= 1_600)
    return model


def test_reasons_come_from_the_model_and_name_the_features_that_raise_risk() -> None:
    model = toy_classifier()
    typical = {"carrier": "fast", "delay_h": 7.0, "noise": 0.0}
    rows = pd.DataFrame(
        {
            "carrier": ["slow", "fast", "fast"],
            "delay_h": [7.0, 40.0, 7.0],
            "noise": [0.0, 0.0, 0.0],
        }
    )
    with threadpool_limits(1):
        reasons = batch.explain_stuck(model, rows, typical)
    assert reasons[0][0]["feature"] == "carrier"
    assert reasons[0][0]["value"] == "slow" and reasons[0][0]["typical"] == "fast"
    assert reasons[0][0]["text"].startswith("carrier slow (typical fast) raises the stuck risk by +")
    assert reasons[1][0]["feature"] == "delay_h"
    assert reasons[1][0]["effect"] > 0.1
    # A typical order has nothing that raises its risk above typical: no reasons are made up.
    assert reasons[2] == []
    assert all(r["feature"] != "noise" or r["effect"] < 0.05 for row in reasons for r in row)


def test_no_champion_means_nothing_to_serve(store_file) -> None:
    from core import store

    with store.connect(store_file):
        pass
    assert batch.serving_versions(date(2026, 3, 2), store_file) == {}
    assert batch.load_serving(date(2026, 3, 2), store_file) == {}
