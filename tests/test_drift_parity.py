"""Our drift scores are Evidently's: on small seeded frames (normal, heavy-tailed, categorical with a
new category, shifts just below and above the threshold) `drift_scores` gives the scores Evidently's
own report gives for the same rows, methods and thresholds, and the same verdicts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from evidently.core.report import Snapshot

from core.monitor import drift, drift_evidently, drift_scores
from core.monitor.drift import MonitorSettings

ROWS = 3000
KINDS = {
    "normal": "numeric",
    "shifted": "numeric",
    "heavy": "numeric",
    "with_inf": "numeric",
    "near_below": "numeric",
    "near_above": "numeric",
    "carrier": "categorical",
    "carrier_new": "categorical",
}
THRESHOLD = 0.1


def frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def side(shift: bool) -> pd.DataFrame:
        with_inf = rng.normal(0.0, 1.0, ROWS)
        with_inf[:3] = [np.inf, -np.inf, np.nan]  # Evidently drops these before scoring
        carriers = ["dhl", "ups", "dpd"] + (["quickhaul"] if shift else [])
        return pd.DataFrame(
            {
                "normal": rng.normal(0.0, 1.0, ROWS),
                "shifted": rng.normal(0.5 if shift else 0.0, 1.0, ROWS),
                "heavy": rng.pareto(1.5, ROWS) * (1.3 if shift else 1.0),
                "with_inf": with_inf,
                # a normal moved by 0.9 and 1.1 x the threshold in std: its normed Wasserstein distance
                "near_below": rng.normal(0.9 * THRESHOLD if shift else 0.0, 1.0, ROWS),
                "near_above": rng.normal(1.1 * THRESHOLD if shift else 0.0, 1.0, ROWS),
                "carrier": rng.choice(["dhl", "ups", "dpd"], ROWS, p=[0.5, 0.3, 0.2]),
                "carrier_new": rng.choice(carriers, ROWS),
            }
        )

    return side(False), side(True)


def evidently_scores(reference: pd.DataFrame, current: pd.DataFrame, methods, thresholds) -> pd.DataFrame:
    snapshot = drift_evidently.run_evidently(reference, current, KINDS, methods, thresholds)
    return drift_evidently.parse_snapshot(snapshot.dict()).set_index("column")


@pytest.mark.parametrize("seed", [1, 2])
def test_scores_and_verdicts_equal_evidentlys_report(seed):
    reference, current = frames(seed)
    methods = {c: "wasserstein" if k == "numeric" else "jensenshannon" for c, k in KINDS.items()}
    # thresholds a hair (1e-12 relative) below or above each column's own Evidently score
    exact = evidently_scores(reference, current, methods, dict.fromkeys(KINDS, THRESHOLD))["score"]
    thresholds = {c: float(exact[c]) * (1 + 1e-12 if i % 2 else 1 - 1e-12) for i, c in enumerate(KINDS)}
    theirs = evidently_scores(reference, current, methods, thresholds)
    ours = drift.score_columns(reference, current, KINDS, methods, thresholds).set_index("column")

    for column in KINDS:
        assert ours.loc[column, "score"] == pytest.approx(theirs.loc[column, "score"], rel=1e-12, abs=0.0), column
    assert ours["drifted"].to_dict() == theirs["drifted"].to_dict()
    assert ours["drifted"].tolist() == [i % 2 == 0 for i in range(len(KINDS))]


def test_near_threshold_columns_land_on_their_side():
    reference, current = frames(3)
    methods = {c: "wasserstein" if k == "numeric" else "jensenshannon" for c, k in KINDS.items()}
    theirs = evidently_scores(reference, current, methods, dict.fromkeys(KINDS, THRESHOLD))
    ours = drift.score_columns(reference, current, KINDS, methods, dict.fromkeys(KINDS, THRESHOLD))
    ours = ours.set_index("column")
    assert ours["drifted"].to_dict() == theirs["drifted"].to_dict()
    assert ours.loc["shifted", "drifted"] and ours.loc["carrier_new", "drifted"]
    assert not ours.loc["normal", "drifted"] and not ours.loc["carrier", "drifted"]


def test_wasserstein_is_scipys_distance_over_the_population_std():
    from scipy import stats

    rng = np.random.default_rng(5)
    reference, current = pd.Series(rng.gamma(2.0, 1.0, 1001)), pd.Series(rng.gamma(2.0, 1.2, 777))
    expected = stats.wasserstein_distance(reference, current) / np.std(reference.to_numpy())
    assert drift_scores.wasserstein_norm(reference, current) == pytest.approx(expected, rel=1e-12)
    # a constant reference: Evidently norms by 0.001 rather than divide by zero
    assert drift_scores.wasserstein_norm(pd.Series([2.0] * 50), pd.Series([2.5] * 50)) == pytest.approx(500.0)


def test_jensenshannon_counts_values_seen_on_one_side_only():
    # shares (0.5, 0.5, 0) against (0.5, 0, 0.5): JS^2 = ln 2 / 2
    reference, current = pd.Series(["a", "b"] * 50), pd.Series(["a", "c"] * 50)
    assert drift_scores.jensenshannon_categorical(reference, current) == pytest.approx(np.sqrt(np.log(2) / 2))


def test_other_methods_fall_back_to_evidentlys_own_test():
    rng = np.random.default_rng(6)
    reference, current = pd.Series(rng.normal(0, 1, 500)), pd.Series(rng.normal(0.3, 1, 500))
    assert drift_scores.score_column(reference, current, "numeric", "ks") == pytest.approx(
        drift_evidently.score_column(reference, current, "numeric", "ks"), rel=1e-12
    )


def test_the_report_shows_the_verdicts_scores():
    reference, current = frames(4)
    settings = MonitorSettings(max_rows=2000)  # sampled: the report must see the same sampled rows
    result = drift.attach_report(drift.compute_drift(reference, current, list(KINDS), settings=settings))
    assert (result.sampled_ref, result.sampled_cur) == (2000, 2000)
    reported = drift_evidently.parse_snapshot(Snapshot.loads(result.snapshot_json).dict()).set_index("column")
    table = result.columns.set_index("column")
    assert reported["score"].to_dict() == pytest.approx(table["score"].to_dict(), rel=1e-12)
    assert reported["drifted"].to_dict() == table["drifted"].astype(bool).to_dict()


def test_a_report_that_disagrees_with_the_verdicts_scores_is_refused():
    reference, current = frames(4)
    result = drift.compute_drift(reference, current, ["normal", "carrier"])
    moved = result.columns.assign(score=result.columns["score"] * (1 + 1e-6))
    with pytest.raises(drift.DriftReportError, match=r"disagrees .* \['carrier', 'normal'\]"):
        drift.attach_report(dataclasses.replace(result, columns=moved))
