from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.monitor import segments
from tests.test_accuracy import AS_OF, build_store


def forecasts(levels: dict[str, list[float]]) -> pd.DataFrame:
    """One realised forecast per order, carrier = level, the given absolute errors."""
    rows = []
    for level, errors in levels.items():
        for i, err in enumerate(errors):
            rows.append(
                {
                    "order_id": f"{level}{i}",
                    "carrier": level,
                    "region": "north",
                    "estimated": False,
                    "abs_error_h": err,
                    "error_h": -err,
                    "covered": float(err < 15),
                    "too_early": 1.0,
                    "too_late": 0.0,
                    "cost_eur": err / 10,
                }
            )
    return pd.DataFrame(rows)


def test_gap_to_overall_and_welch_significance():
    a = [9.0, 11.0] * 20
    b = [19.0, 21.0] * 20
    c = [100.0] * 4 + [102.0]
    table = segments.segment_metrics(forecasts({"a": a, "b": b, "c": c}), segments=("carrier",), min_orders=30)
    mae = table.loc[table["metric"] == "mae_h"].set_index("level")
    overall = (sum(a) + sum(b) + sum(c)) / 85
    assert mae["overall"].tolist() == pytest.approx([overall] * 3)
    assert mae.loc["a", "figure"] == pytest.approx(10.0) and mae.loc["a", "gap"] == pytest.approx(10.0 - overall)
    assert mae.loc["a", "orders"] == 40
    expected_p = stats.ttest_ind(a, b + c, equal_var=False).pvalue
    assert mae.loc["a", "p_value"] == pytest.approx(expected_p)
    assert bool(mae.loc["a", "significant"])
    # b (20 h) against the rest, a and c together (902 h / 45 = 20.04 h): no difference
    assert not bool(mae.loc["b", "significant"])
    # c is far off but has 5 orders, under the minimum: never called significant
    assert mae.loc["c", "p_value"] < 0.05 and not bool(mae.loc["c", "significant"])
    cover = table.loc[table["metric"] == "coverage_80_pct"].set_index("level")
    assert cover.loc["a", "figure"] == 100.0 and cover.loc["b", "figure"] == 0.0
    assert set(table["test"]) == {"welch_t"}
    # region has one level: its figure is the overall one and the rest is empty
    region = segments.segment_metrics(forecasts({"a": a, "b": b}), segments=("region",))
    row = region.loc[region["metric"] == "mae_h"].iloc[0]
    assert (row["level"], row["gap"], bool(row["significant"])) == ("north", 0.0, False)
    assert np.isnan(row["p_value"])


def test_same_figure_everywhere_is_not_significant():
    table = segments.segment_metrics(forecasts({"a": [5.0] * 40, "b": [5.0] * 40}), segments=("carrier",))
    mae = table.loc[table["metric"] == "mae_h"]
    assert mae["p_value"].tolist() == [1.0, 1.0] and not mae["significant"].any()


def test_an_order_counts_once_and_estimates_are_left_out():
    frame = forecasts({"a": [10.0, 30.0], "b": [20.0, 20.0]})
    repeat = frame.iloc[[0]].assign(abs_error_h=20.0)  # a0 forecast again: its mean is 15
    estimate = frame.iloc[[1]].assign(order_id="e1", estimated=True, abs_error_h=1000.0)
    missing = frame.iloc[[2]].assign(order_id="m1", carrier=None)
    table = segments.segment_metrics(pd.concat([frame, repeat, estimate, missing]), segments=("carrier",))
    mae = table.loc[table["metric"] == "mae_h"].set_index("level")
    assert mae.loc["a", "figure"] == pytest.approx((15.0 + 30.0) / 2)
    assert mae.loc["a", "orders"] == 2
    assert mae.loc["(missing)", "orders"] == 1
    assert mae["overall"].iloc[0] == pytest.approx((15 + 30 + 20 + 20 + 20) / 5)


def test_segment_table_on_a_store(store_file: Path):
    build_store(store_file)
    table = segments.segment_table(store_file, as_of=AS_OF, min_orders=1)
    mae = table.loc[(table["segment"] == "carrier") & (table["metric"] == "mae_h")].set_index("level")
    # fast: O1 (10 h), O2 (5 h); slow: O3 (30 h), O4 overdue (182 h); O6 is immature
    assert mae.loc["fast", "figure"] == pytest.approx(7.5)
    assert mae.loc["slow", "figure"] == pytest.approx(106.0)
    assert mae.loc["fast", "overall"] == pytest.approx(56.75)
    listed = table.loc[(table["segment"] == "carrier") & (table["metric"] == "stuck_after_listing_pct")]
    # matured listings: O4 (slow, stuck) and O2 (fast, not stuck)
    assert listed.set_index("level")["figure"].to_dict() == {"fast": 0.0, "slow": 100.0}
    bias = table.loc[(table["segment"] == "carrier") & (table["metric"] == "stuck_prob_bias_pct")]
    assert bias.set_index("level")["figure"].to_dict() == pytest.approx({"fast": 10.0, "slow": -30.0})
    assert set(table["segment"]) == {"carrier", "region", "channel", "ship_mode", "customer_tier"}


def test_benjamini_hochberg_adjusts_a_hand_made_family():
    # sorted: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); p × 4 / rank = 0.02, 0.02, 0.04, 0.04, then the
    # running minimum from the largest down leaves them as they are
    adjusted = segments.adjust_benjamini_hochberg([0.01, 0.04, 0.03, 0.005, np.nan])
    assert adjusted[:4].tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(adjusted[4])
    # the step-up: 0.04 × 2 / 1 = 0.08 is lowered to the next rank's 0.05 × 2 / 2 = 0.05; capped at 1
    assert segments.adjust_benjamini_hochberg([0.05, 0.04]).tolist() == pytest.approx([0.05, 0.05])
    assert segments.adjust_benjamini_hochberg([0.9, 0.8, 0.7]).tolist() == pytest.approx([0.9, 0.9, 0.9])
    assert segments.adjust_benjamini_hochberg([]).tolist() == []


def test_a_gap_significant_alone_is_not_once_the_day_s_tests_are_counted():
    a, b = [45.0, 55.0] * 15, [48.0, 58.0] * 15
    table = segments.segment_metrics(forecasts({"a": a, "b": b}), segments=("carrier",), min_orders=30)
    raw = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert raw == pytest.approx(0.026004581, rel=1e-6)  # under 5% on its own
    # the family: 2 levels × 6 forecast figures = 12 tests; MAE, bias and cost carry the same p-value for
    # both levels (ranks 1-6), coverage and the two too-early/late shares are constant (p = 1)
    assert segments.CORRECTION == "benjamini_hochberg"
    by_metric = table.set_index(["metric", "level"])
    for metric in ("mae_h", "bias_h", "cost_per_forecast_eur"):
        for level in ("a", "b"):
            assert by_metric.loc[(metric, level), "p_value"] == pytest.approx(raw)
            assert by_metric.loc[(metric, level), "p_value_adjusted"] == pytest.approx(raw * 12 / 6)
            assert not bool(by_metric.loc[(metric, level), "significant"])
    for metric in ("coverage_80_pct", "too_early_pct", "too_late_pct"):
        assert by_metric.loc[(metric, "a"), "p_value_adjusted"] == 1.0


def test_levels_under_the_minimum_are_out_of_the_family():
    a, b, c = [9.0, 11.0] * 20, [19.0, 21.0] * 20, [100.0] * 4 + [102.0]
    table = segments.segment_metrics(forecasts({"a": a, "b": b, "c": c}), segments=("carrier",), min_orders=30)
    mae = table.loc[table["metric"] == "mae_h"].set_index("level")
    assert np.isnan(mae.loc["c", "p_value_adjusted"]) and not bool(mae.loc["c", "significant"])
    # a and b are in the family of 2 levels × 6 figures = 12 (c's 6 are not)
    eligible = table.loc[table["level"] != "c", "p_value"].to_numpy()
    assert table.loc[table["level"] != "c", "p_value_adjusted"].tolist() == pytest.approx(
        segments.adjust_benjamini_hochberg(eligible).tolist()
    )
