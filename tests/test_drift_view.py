"""One drift cell, reference vs current (core.views.drift), and the Drift page that shows it."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import config
from core.errors import ConfigError
from core.monitor import drift_store
from core.monitor.drift_scores import score_column
from core.views import drift as drift_view
from tests.conftest import REPO_ROOT
from tests.test_scenarios import TrainedWorld, copy_world, run_days, session_world
from ui import drift_cell, monitor_charts

DRIFT_PAGE = REPO_ROOT / "pages" / "drift.py"


def test_numeric_shares_bin_both_sides_on_one_scale():
    shares = drift_view.numeric_shares(pd.Series([0.0, 1.0, 2.0, 3.0]), pd.Series([2.0, 3.0, 3.0, 3.0]), bins=3)
    assert shares["low"].tolist() == [0.0, 1.0, 2.0]
    assert shares["high"].tolist() == [1.0, 2.0, 3.0]
    assert shares["reference_share"].tolist() == [0.25, 0.25, 0.5]
    assert shares["current_share"].tolist() == [0.0, 0.0, 1.0]
    assert shares["low_value"].tolist() == shares["low"].tolist()


def test_numeric_shares_on_the_log_scale_name_the_edges_in_the_columns_units():
    logged = pd.Series(np.log1p([0.0, 9.0]))
    shares = drift_view.numeric_shares(logged, logged, log_scale=True, bins=1)
    assert shares["low_value"].tolist() == [0.0]
    assert shares["high_value"].iloc[0] == pytest.approx(9.0)


def test_categorical_shares_keep_the_most_common_and_pool_the_rest():
    shares = drift_view.categorical_shares(pd.Series(list("aabc")), pd.Series(list("abbd")), top=2)
    assert shares["category"].tolist() == ["a", "b", drift_view.OTHER_CATEGORIES]
    assert shares["reference_share"].tolist() == [0.5, 0.25, 0.25]
    assert shares["current_share"].tolist() == [0.25, 0.5, 0.25]


def test_compared_values_are_on_the_scores_scale_without_missing_or_infinite():
    heavy = pd.Series([0.0] * 90 + [1.0] * 8 + [1000.0, 5000.0])
    current = pd.Series([1.0, np.nan, np.inf, 3.0])
    ref, cur, log_scale = drift_view.compared_values(heavy, current, "numeric")
    assert log_scale
    assert ref.tolist() == np.log1p(heavy).tolist()
    assert cur.tolist() == [math.log1p(1.0), math.log1p(3.0)]
    ref, cur, log_scale = drift_view.compared_values(pd.Series([1, 2]), pd.Series(["1", None]), "categorical")
    assert (ref.tolist(), cur.tolist(), log_scale) == (["1", "2"], ["1"], False)


def test_a_link_names_the_day_and_column():
    assert drift_cell.link_params(pd.Timestamp("2026-07-13").date(), "carrier") == {
        "day": "2026-07-13",
        "column": "carrier",
    }


@pytest.fixture(scope="module")
def drift_world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """The trained world after one daily run: one day of drift rows against a stored reference."""
    world = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("drift_view"))
    run_days(world, 1)
    return world


@pytest.mark.parametrize("column", ["order_value", "carrier", "stuck_prob"])
def test_the_values_shown_give_the_stored_score(column, drift_world):
    day = drift_world.next_day
    row = drift_view.drift_row(day, column, drift_world.store)
    dist = drift_view.column_distributions(day, column, drift_world.store)
    reference = drift_view.load_reference_column(day, column, drift_world.store)
    current = drift_view.load_current_column(day, column, dist.role, drift_world.store)
    ref, cur, log_scale = drift_view.compared_values(reference, current, dist.kind)
    assert score_column(ref, cur, dist.kind, str(dist.method)) == pytest.approx(row["score"], rel=1e-12)
    assert (dist.score, dist.threshold, dist.drifted) == (row["score"], row["threshold"], bool(row["drifted"]))
    assert (dist.values_ref, dist.values_cur, dist.log_scale) == (len(ref), len(cur), log_scale)
    assert (log_scale, dist.role) == {
        "order_value": (True, "feature"),
        "carrier": (False, "feature"),
        "stuck_prob": (True, "prediction"),
    }[column]
    assert dist.values_cur == int(row["rows_cur"])  # none of these is ever missing
    assert dist.shares[["reference_share", "current_share"]].sum().tolist() == pytest.approx([1.0, 1.0])


def test_a_day_or_column_without_drift_rows_is_refused(drift_world):
    with pytest.raises(ConfigError, match="no drift result for 'carrier' on 2020-01-01"):
        drift_view.column_distributions(pd.Timestamp("2020-01-01").date(), "carrier", drift_world.store)


def test_a_damaged_reference_sample_is_refused_not_read(drift_world, tmp_path):
    world = copy_world(drift_world, tmp_path)
    [reference] = (config.models_dir(world.store) / "reference").glob("*.parquet")
    reference.write_bytes(reference.read_bytes() + b"tampered")
    with pytest.raises(ConfigError, match="was changed after it was written"):
        drift_view.column_distributions(world.next_day, "carrier", world.store)


def _distribution_bars(at: AppTest) -> list[dict]:
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    return spec["data"]


def test_the_drift_page_opens_on_the_linked_day_and_column(drift_world, monkeypatch):
    day = drift_world.next_day
    monkeypatch.setenv("JOURNEYOPS_STORE", str(drift_world.store))
    at = AppTest.from_file(str(DRIFT_PAGE), default_timeout=60)
    at.query_params.update({"day": day.isoformat(), "column": "carrier"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="drift_report_day").value == day
    assert at.selectbox(key="drift_column").value == "carrier"
    dist = drift_view.column_distributions(day, "carrier", drift_world.store)
    bars = _distribution_bars(at)
    assert [bar["name"] for bar in bars] == ["reference (champion's sample)", "this day"]
    assert bars[0]["y"] == pytest.approx((dist.shares["reference_share"] * 100).tolist())
    assert bars[1]["y"] == pytest.approx((dist.shares["current_share"] * 100).tolist())
    assert f"score {dist.score:.3f} against the threshold {dist.threshold:.3f}" in at.caption[2].value
    # the address follows a new pick
    at.selectbox(key="drift_column").set_value("order_value").run()
    assert at.query_params["column"] == "order_value"
    assert "log scale" in at.caption[2].value


def test_a_link_to_a_day_outside_the_window_says_so(drift_world, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_STORE", str(drift_world.store))
    at = AppTest.from_file(str(DRIFT_PAGE), default_timeout=60)
    at.query_params.update({"day": "2020-01-01", "column": "carrier"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["No drift results on 01 Jan 2020 in the days shown: pick a day below."]


def test_the_heatmap_cells_carry_their_day_and_column(drift_world):
    rows = drift_store.read_drift(None, drift_world.store)
    rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
    rows["score_vs_threshold"] = rows["score"] / rows["threshold"]
    cells = monitor_charts.drift_heatmap(rows, "prediction").data[1]
    assert sorted(tuple(c[:2]) for c in cells.customdata) == [
        (drift_world.next_day.isoformat(), "p50_h"),
        (drift_world.next_day.isoformat(), "stuck_prob"),
    ]
