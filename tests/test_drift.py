from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from evidently.core.report import Snapshot
from evidently.legacy.calculations.stattests import jensenshannon_stat_test, wasserstein_stat_test
from evidently.legacy.core import ColumnType

from core.errors import ConfigError
from core.monitor import drift, drift_calibration, drift_checks, drift_evidently, drift_store
from core.monitor.drift import MonitorSettings

CARRIERS = ["dhl", "ups", "dpd", "gls", "hermes"]
CARRIER_P = [0.35, 0.25, 0.2, 0.12, 0.08]


def orders_frame(n: int, seed: int) -> pd.DataFrame:
    """A day of order features shaped like the simulated world's: heavy-tailed times, small counts, categories."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "elapsed_h": rng.lognormal(3.5, 0.8, n),
            "order_value": rng.lognormal(4.0, 1.0, n),
            "items": rng.integers(1, 6, n),
            "carrier": rng.choice(CARRIERS, n, p=CARRIER_P),
            "p50_days": rng.gamma(3.0, 1.0, n),
        }
    )


def checks_of(reference: pd.DataFrame, current: pd.DataFrame, settings: MonitorSettings | None = None):
    kinds = drift.column_kinds(reference, list(reference.columns))
    return drift_checks.check_columns(reference, current, kinds, settings or MonitorSettings())[0].set_index("column")


def test_column_kinds_follow_reference_dtypes_unless_named_categorical():
    frame = pd.DataFrame({"x": [1.0], "n": [2], "flag": [True], "c": ["a"]})
    assert drift.column_kinds(frame, ["x", "n", "flag", "c"], categorical=["n"]) == {
        "x": "numeric",
        "n": "categorical",
        "flag": "categorical",
        "c": "categorical",
    }


def test_sample_rows_is_capped_and_reproducible():
    frame = pd.DataFrame({"x": np.arange(1000)})
    first, second = drift.sample_rows(frame, 100, seed=3), drift.sample_rows(frame, 100, seed=3)
    assert len(first) == 100
    assert first.index.tolist() == second.index.tolist()
    assert first.index.tolist() == frame.sample(n=100, random_state=3).index.tolist()  # pandas' own draw
    assert first["x"].is_unique
    assert drift.sample_rows(frame, 5000, seed=3) is frame


def test_noise_thresholds():
    settings = MonitorSettings()
    # numeric: c / sqrt(n_eff), n_eff = 1 / (1/2500 + 1/2500) = 1250
    assert drift.noise_threshold("numeric", 2500, 2500, 0, settings) == pytest.approx(5 / math.sqrt(1250))
    # categorical with 2 values: sqrt(chi2_1(1 - 1e-6) / (8 n_eff)), chi2_1(0.999999) = 23.9281
    assert drift.noise_threshold("categorical", 2000, 2000, 2, settings) == pytest.approx(
        math.sqrt(23.9281 / 8000), rel=1e-4
    )


def test_missing_column_text_numbers_and_all_nan_are_invalid():
    reference = pd.DataFrame({"a": np.arange(200.0), "b": np.arange(200.0), "c": np.arange(200.0)})
    current = pd.DataFrame({"a": ["1", "x"] * 100, "b": [np.nan] * 200})
    checks = checks_of(reference, current)
    assert checks.loc["a", "status"] == "invalid"
    assert checks.loc["a", "note"] == "numeric column arrived as text: 100 values are not numbers (e.g. 'x')"
    assert checks.loc["b", "status"] == "invalid"
    assert checks.loc["b", "note"] == "no values in the current batch (all missing)"
    assert checks.loc["c", "note"] == "column missing from the current batch"


def test_numbers_arriving_as_text_that_all_parse_are_compared_as_numbers():
    reference = pd.DataFrame({"a": np.arange(200.0)})
    current = pd.DataFrame({"a": [str(v) for v in range(200)]})
    checks = checks_of(reference, current)
    assert checks.loc["a", "status"] is None  # judged by Evidently next
    assert checks.loc["a", "note"] == "numeric column arrived as text; every value parsed as a number"


def test_empty_and_small_batches_are_too_small():
    reference = orders_frame(500, seed=1)
    empty = checks_of(reference, reference.iloc[:0])
    assert set(empty["status"]) == {"too_small"}
    assert empty.loc["elapsed_h", "note"] == "0 non-missing values in the current batch, fewer than 100"
    few = checks_of(reference, reference.iloc[:3])
    assert set(few["status"]) == {"too_small"}


def test_missing_rate_and_its_jump():
    reference = pd.DataFrame({"x": [np.nan] * 20 + list(range(980))})  # 2% missing
    current = pd.DataFrame({"x": [np.nan] * 150 + list(range(850))})  # 15% missing
    checks = checks_of(reference, current)
    assert checks.loc["x", "missing_rate_ref"] == pytest.approx(0.02)
    assert checks.loc["x", "missing_rate_cur"] == pytest.approx(0.15)
    assert checks.loc["x", "missing_rate_jumped"]
    # 2% -> 4% is within the 5-point minimum: not a jump
    current = pd.DataFrame({"x": [np.nan] * 40 + list(range(960))})
    assert not checks_of(reference, current).loc["x", "missing_rate_jumped"]


def test_new_categories_need_a_material_share():
    reference = pd.DataFrame({"carrier": ["dhl", "ups"] * 500})
    current = pd.DataFrame({"carrier": ["dhl"] * 880 + ["quickhaul"] * 100 + ["zoom"] * 20})
    checks = checks_of(reference, current)
    assert checks.loc["carrier", "new_categories"] == ["quickhaul", "zoom"]
    assert checks.loc["carrier", "new_category_share"] == pytest.approx(0.12)
    one_stray = pd.DataFrame({"carrier": ["dhl"] * 999 + ["zoom"]})  # 0.1%: below 0.5%
    checks = checks_of(reference, one_stray)
    assert checks.loc["carrier", "new_categories"] == []
    assert checks.loc["carrier", "new_category_share"] == pytest.approx(0.001)


def test_id_like_columns_are_not_checked_for_new_values():
    reference = pd.DataFrame({"order_id": [f"o{i}" for i in range(2000)]})
    current = pd.DataFrame({"order_id": [f"n{i}" for i in range(500)]})
    checks = checks_of(reference, current)
    assert checks.loc["order_id", "new_categories"] == []
    assert checks.loc["order_id", "note"] == "2000 distinct reference values: id-like, new values not checked"


def test_parse_snapshot_links_scores_to_failed_tests():
    snapshot = {
        "metrics": [
            {"id": "m0", "config": {"type": "evidently:metric_v2:DriftedColumnsCount"}, "value": {"count": 1}},
            {
                "id": "m1",
                "config": {
                    "type": "evidently:metric_v2:ValueDrift",
                    "column": "a",
                    "method": "wasserstein",
                    "threshold": 0.1,
                },
                "value": 0.25,
            },
            {
                "id": "m2",
                "config": {
                    "type": "evidently:metric_v2:ValueDrift",
                    "column": "b",
                    "method": "jensenshannon",
                    "threshold": 0.2,
                },
                "value": 0.05,
            },
        ],
        "tests": [
            {"metric_config": {"metric_id": "m1"}, "status": "FAIL"},
            {"metric_config": {"metric_id": "m2"}, "status": "SUCCESS"},
        ],
    }
    parsed = drift_evidently.parse_snapshot(snapshot)
    assert parsed.to_dict("records") == [
        {"column": "a", "method": "wasserstein", "score": 0.25, "threshold": 0.1, "drifted": True},
        {"column": "b", "method": "jensenshannon", "score": 0.05, "threshold": 0.2, "drifted": False},
    ]


def test_compute_drift_end_to_end(store_file):
    reference = orders_frame(4000, seed=1)
    current = orders_frame(2000, seed=2)
    current["elapsed_h"] = current["elapsed_h"] * 2.0  # a warehouse slows down
    current.loc[:199, "carrier"] = "quickhaul"  # a new carrier takes 10%
    current["order_value"] = current["order_value"].astype(str)  # upstream now sends text
    current = current.drop(columns=["items"])
    result = drift.compute_drift(reference, current, ["elapsed_h", "order_value", "items", "carrier"], ["p50_days"])
    table = result.columns.set_index("column")
    assert table["status"].to_dict() == {
        "elapsed_h": "drifted",
        "order_value": "ok",
        "items": "invalid",
        "carrier": "drifted",
        "p50_days": "ok",
    }
    assert table["role"].to_dict()["p50_days"] == "prediction"
    assert table.loc["elapsed_h", "method"] == "wasserstein"
    assert bool(table.loc["elapsed_h", "drifted"])
    assert table.loc["elapsed_h", "score"] > 0.5
    assert table.loc["carrier", "new_categories"] == ["quickhaul"]
    assert bool(table.loc["carrier", "drifted"])  # 10% of mass on an unseen value: JS ≈ 0.19
    assert table.loc["carrier", "score"] == pytest.approx(0.19, abs=0.01)
    assert table.loc["order_value", "note"] == (
        "numeric column arrived as text; every value parsed as a number; heavy right tail: compared on a log scale"
    )
    assert table.loc["elapsed_h", "note"] == "heavy right tail: compared on a log scale"
    assert pd.isna(table.loc["items", "drifted"])
    assert result.drift_share == pytest.approx(2 / 3)
    floor = 5 / math.sqrt(1 / (1 / 4000 + 1 / 2000))  # numeric noise floor at 4,000 vs 2,000 rows: 0.137
    assert result.thresholds == pytest.approx(
        {"elapsed_h": floor, "order_value": floor, "carrier": 0.1, "p50_days": floor}
    )
    assert (result.rows_ref, result.rows_cur) == (4000, 2000)
    assert result.snapshot_json is None  # the verdicts come without Evidently's report
    result = drift.attach_report(result)
    assert result.snapshot_json is not None
    reported = drift_evidently.parse_snapshot(Snapshot.loads(result.snapshot_json).dict()).set_index("column")
    assert reported["score"].to_dict() == pytest.approx(table["score"].dropna().to_dict(), rel=1e-12)

    drift_store.store_drift(result, date(2026, 3, 2), store_file, model_version="v3")
    drift_store.store_drift(result, date(2026, 3, 2), store_file, model_version="v3")  # a re-run replaces
    stored = drift_store.read_drift(date(2026, 3, 1), store_file)
    assert len(stored) == 5
    assert stored.set_index("column").loc["carrier", "new_categories"].tolist() == ["quickhaul"]
    assert drift_store.read_drift(date(2026, 3, 3), store_file).empty
    assert drift_store.read_snapshot_json(date(2026, 3, 2), store_file) == result.snapshot_json
    assert drift_store.read_snapshot_json(date(2026, 3, 1), store_file) is None

    html = drift_evidently.render_drift_html(result.snapshot_json, store_file.parent / "reports" / "drift.html")
    assert html.read_text()[:200].lower().count("<html") == 1


def test_a_three_row_batch_is_too_small_and_never_reaches_evidently():
    reference = orders_frame(1000, seed=1)
    result = drift.compute_drift(reference, orders_frame(3, seed=2), ["elapsed_h", "carrier"])
    assert result.columns["status"].tolist() == ["too_small", "too_small"]
    assert drift.attach_report(result).snapshot_json is None
    assert result.drift_share == 0.0


def test_sampling_caps_rows_a_side():
    settings = MonitorSettings(max_rows=1500)
    result = drift.compute_drift(orders_frame(3000, 1), orders_frame(2000, 2), ["items"], settings=settings)
    assert (result.sampled_ref, result.sampled_cur) == (1500, 1500)
    assert result.columns.loc[0, "status"] == "ok"


def test_settings_are_validated_and_need_columns():
    with pytest.raises(ConfigError, match="min_rows <= max_rows"):
        MonitorSettings(min_rows=500, max_rows=100)
    with pytest.raises(ConfigError, match="at least one feature or prediction column"):
        drift.compute_drift(orders_frame(10, 1), orders_frame(10, 2), [])


def quiet_and_shifted_scores(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """Score / threshold per column, through the same checks, scales and thresholds as compute_drift,
    scored with Evidently's own stat tests (the ones its report runs) without building a report."""
    settings = MonitorSettings()
    kinds = drift.column_kinds(reference, list(reference.columns))
    _, ref, cur = drift_checks.check_columns(reference, current, kinds, settings)
    methods, thresholds = drift.column_thresholds(ref, cur, kinds, settings)
    tests = {
        "wasserstein": (wasserstein_stat_test, ColumnType.Numerical),
        "jensenshannon": (jensenshannon_stat_test, ColumnType.Categorical),
    }
    ratios = {}
    for column, method in methods.items():
        test, kind = tests[method]
        score = test(ref[column].dropna(), cur[column].dropna(), kind, thresholds[column]).drift_score
        ratios[column] = float(score) / thresholds[column]
    return ratios


def test_thirty_quiet_days_of_realistic_size_raise_no_drift():
    # The control run: 30 days of 1,000-3,900 rows, each a fresh sample of the reference world.
    reference = orders_frame(100_000, seed=0)
    worst = max(
        max(quiet_and_shifted_scores(reference, orders_frame(1000 + 100 * day, seed=100 + day)).values())
        for day in range(30)
    )
    assert worst < 0.9


def test_realistic_shifts_clear_the_threshold():
    reference = orders_frame(100_000, seed=0)
    current = orders_frame(2000, seed=9)
    current["elapsed_h"] *= 1.3  # every stage 30% slower
    rng = np.random.default_rng(4)
    # a warehouse outage moves orders between carriers: the largest one from 35% to 20%
    current["carrier"] = rng.choice(CARRIERS, 2000, p=[0.2, 0.3, 0.25, 0.15, 0.1])
    ratios = quiet_and_shifted_scores(reference, current)
    assert ratios["elapsed_h"] > 1.5
    assert ratios["carrier"] > 1.2
    assert max(ratios["order_value"], ratios["items"], ratios["p50_days"]) < 0.9


def instants_frame(loads: list[float], rows_per_instant: int = 200, seed: int = 0) -> pd.DataFrame:
    """Reference of several daily instants: `load` is the same for every order of an instant (a WIP count)."""
    rng = np.random.default_rng(seed)
    n = rows_per_instant * len(loads)
    return pd.DataFrame(
        {
            "as_of_at": np.repeat(pd.date_range("2026-03-01 06:00", periods=len(loads), freq="D"), rows_per_instant),
            "load": np.repeat(loads, rows_per_instant),
            "value": rng.normal(50.0, 10.0, n),
        }
    )


def test_calibration_lifts_thresholds_of_instant_driven_columns_only():
    reference = instants_frame([100.0, 110.0, 90.0, 105.0, 95.0])
    calibrated = drift_calibration.calibrate_thresholds(reference, ["load", "value"])
    # the 90 and 110 days against the other four: W = 12.5, std of the rest = sqrt(31.25); x 1.5
    assert calibrated["load"] == pytest.approx(1.5 * 12.5 / math.sqrt(31.25))
    # a row-level column stays under its sampling-noise floor (200 rows against 800): calibration adds nothing
    assert calibrated["value"] < drift.noise_threshold("numeric", 800, 200, 0, MonitorSettings())

    def batch(load: float) -> pd.DataFrame:
        return instants_frame([load], rows_per_instant=300, seed=5)

    normal_day = drift.compute_drift(reference, batch(102.0), ["load", "value"], calibrated=calibrated)
    assert normal_day.columns["status"].tolist() == ["ok", "ok"]
    assert normal_day.thresholds["load"] == pytest.approx(calibrated["load"])
    uncalibrated = drift.compute_drift(reference, batch(102.0), ["load", "value"])
    assert uncalibrated.columns["status"].tolist() == ["drifted", "ok"]  # the false alarm calibration removes
    surge = drift.compute_drift(reference, batch(130.0), ["load", "value"], calibrated=calibrated)
    assert surge.columns.set_index("column").loc["load", "score"] == pytest.approx(30 / math.sqrt(50))
    assert surge.columns["status"].tolist() == ["drifted", "ok"]


def test_calibration_needs_the_instant_column():
    with pytest.raises(ConfigError, match="no 'as_of_at' column"):
        drift_calibration.calibrate_thresholds(orders_frame(500, 1), ["items"])


def test_full_run_gives_the_sampled_verdicts():
    reference, current = orders_frame(3000, seed=1), orders_frame(3000, seed=2)
    current["elapsed_h"] *= 1.5
    settings = MonitorSettings(max_rows=1000)
    sampled = drift.compute_drift(reference, current, ["elapsed_h", "items", "carrier"], settings=settings)
    full = drift_calibration.full_run_verdicts(reference, current, sampled, settings=settings)
    assert full["drifted"].tolist() == sampled.columns["drifted"].tolist() == [True, False, False]
    assert full["threshold"].tolist() == [sampled.thresholds[c] for c in ["elapsed_h", "items", "carrier"]]
