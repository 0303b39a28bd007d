"""Live interval calibration: censoring-aware corrections per segment, shrunk, capped, applied."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.scoring import calibration
from core.scoring.calibration import CalibrationSettings


def test_censored_quantile_without_censoring_is_the_empirical_quantile():
    values = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    assert calibration.censored_quantile(values, np.zeros(5, bool), 0.5) == 3.0
    assert calibration.censored_quantile(values, np.zeros(5, bool), 0.1) == 1.0
    assert calibration.censored_quantile(values, np.zeros(5, bool), 0.9) == 5.0


def test_censored_quantile_counts_open_orders_as_not_yet_delivered():
    # Two of four are still open after 10 h: half are delivered by 3 h, and nothing says where the
    # rest lands beyond 10 h (dropping the open ones would put the median at 1-3 h, the 60% at 3 h).
    residual = np.array([1.0, 3.0, 10.0, 10.0])
    censored = np.array([False, False, True, True])
    assert calibration.censored_quantile(residual, censored, 0.5) == 3.0
    assert calibration.censored_quantile(residual, censored, 0.6) == 10.0  # hidden: the lower bound
    # Kaplan-Meier by hand: S(1) = 3/4, S(3) = 1/2 (the censored at 2 leaves the risk set first).
    residual = np.array([1.0, 2.0, 3.0, 6.0, 8.0])
    censored = np.array([False, True, False, False, True])
    # S(1)=4/5; at 3: 3 at risk -> S=4/5*2/3=8/15 (F=.467); at 6: 2 at risk -> S=4/15 (F=.733)
    assert calibration.censored_quantile(residual, censored, 0.4) == 3.0
    assert calibration.censored_quantile(residual, censored, 0.5) == 6.0
    assert calibration.censored_quantile(residual, censored, 0.7) == 6.0
    assert calibration.censored_quantile(residual, censored, 0.8) == 8.0  # censored beyond: lower bound


def _forecasts(
    n_fast: int, n_slow: int, *, slow_delay_h: float, open_slow: int = 0, slow_stage_every: int = 1
) -> pd.DataFrame:
    made = pd.Timestamp("2026-11-01")
    rows = []
    for i in range(n_fast + n_slow):
        # With slow_stage_every=k, only every k-th order of the slow carrier is slow: those at its hub.
        slow = i >= n_fast and (i - n_fast) % slow_stage_every == 0
        at_hub = i >= n_fast and slow_stage_every > 1 and slow
        actual = 48.0 + (slow_delay_h if slow else 0.0) + (i % 11) - 5  # spread ±5 h around the truth
        still_open = slow and i - n_fast < open_slow
        rows.append(
            {
                "as_of_date": made.date(),
                "as_of_at": made,
                "order_id": f"o{i}",
                "p10_h": 40.0,
                "p50_h": 48.0,
                "p90_h": 56.0,
                "delivered_at": None if still_open else made + pd.Timedelta(hours=actual),
                "cancelled_at": None,
                "carrier": "slowco" if i >= n_fast else "fastco",
                "current_stage": "at_hub" if at_hub else "in_transit",
                "warehouse": "WH-1",
            }
        )
    return pd.DataFrame(rows)


def test_a_slow_carrier_gets_its_own_wider_later_bounds():
    forecasts = _forecasts(400, 400, slow_delay_h=24.0)
    table = calibration.estimate_corrections(
        forecasts, pd.Timestamp("2026-11-10"), CalibrationSettings(shrink_forecasts=0)
    )
    by = table.set_index("value")
    # Factors on 1 + hours: the fast carrier's median is the forecast's, the slow one's 24 h later.
    assert by.loc["fastco", "scale_p50"] == pytest.approx(1.0, abs=0.02)
    assert by.loc["slowco", "scale_p50"] == pytest.approx(73.0 / 49.0, abs=0.02)
    assert by.loc["slowco", "forecasts"] == 400 and by.loc["*", "forecasts"] == 800
    served = calibration.apply_corrections(
        pd.DataFrame({"p10_h": [40.0, 40.0], "p50_h": [48.0, 48.0], "p90_h": [56.0, 56.0]}),
        ["slowco", "newco"],
        table,
    )
    assert served.loc[0, "p50_h"] == pytest.approx(49.0 * by.loc["slowco", "scale_p50"] - 1.0)
    assert served.loc[1, "p50_h"] == pytest.approx(49.0 * by.loc["*", "scale_p50"] - 1.0)  # unseen: overall


def test_thin_segments_are_shrunk_and_every_correction_is_capped():
    forecasts = _forecasts(400, 60, slow_delay_h=200.0)
    at = pd.Timestamp("2026-12-30")
    alone = calibration.estimate_corrections(forecasts, at, CalibrationSettings(shrink_forecasts=0, cap_factor=100.0))
    own, overall = np.log(alone.set_index("value").loc[["slowco", "*"], "scale_p50"])
    shrunk = calibration.estimate_corrections(forecasts, at, CalibrationSettings(shrink_forecasts=60, cap_factor=100.0))
    # 60 forecasts against a shrink of 60: half its own log factor, half the overall one.
    assert np.log(shrunk.set_index("value").loc["slowco", "scale_p50"]) == pytest.approx(0.5 * own + 0.5 * overall)
    assert own == pytest.approx(np.log(249.0 / 49.0), abs=0.02)  # 200 h late on a 48 h forecast
    capped = calibration.estimate_corrections(forecasts, at, CalibrationSettings(shrink_forecasts=0, cap_factor=3.0))
    assert capped.set_index("value").loc["slowco", "scale_p50"] == pytest.approx(3.0)
    factors = capped[list(calibration.CORRECTION_COLUMNS)]
    assert ((factors >= 1.0 / 3.0 - 1e-12) & (factors <= 3.0 + 1e-12)).all().all()


def test_open_orders_push_the_correction_up_instead_of_vanishing():
    # 200 slow orders of which 150 are still open 30 h after their p50: dropping them would say the
    # slow carrier is on time; counting them as not yet delivered moves its median past 30 h.
    forecasts = _forecasts(400, 200, slow_delay_h=60.0, open_slow=150)
    now = pd.Timestamp("2026-11-01") + pd.Timedelta(hours=48 + 30)
    table = calibration.estimate_corrections(forecasts, now, CalibrationSettings(shrink_forecasts=0))
    assert 49.0 * table.set_index("value").loc["slowco", "scale_p50"] - 1.0 >= 48.0 + 30.0


def test_no_corrections_from_too_few_forecasts():
    table = calibration.estimate_corrections(_forecasts(10, 10, slow_delay_h=5.0), pd.Timestamp("2026-11-09"))
    assert table.empty
    scores = pd.DataFrame({"p10_h": [1.0], "p50_h": [2.0], "p90_h": [3.0]})
    assert calibration.apply_corrections(scores, ["x"], table).equals(scores)


def test_a_stage_within_a_carrier_gets_its_own_correction_and_a_thin_one_leans_on_its_carrier():
    # Half of slowco's orders wait at its hub (24 h late), the other half are on time.
    forecasts = _forecasts(400, 400, slow_delay_h=24.0, slow_stage_every=2)
    table = calibration.estimate_corrections(
        forecasts, pd.Timestamp("2026-11-10"), CalibrationSettings(shrink_forecasts=0)
    ).set_index("value")
    hub, transit = "slowco / at_hub / WH-1", "slowco / in_transit / WH-1"
    assert table.loc[hub, "segment"] == "carrier / current_stage / warehouse"
    assert table.loc["slowco", "segment"] == "carrier"
    assert table.loc[hub, "forecasts"] == 200 and table.loc[transit, "forecasts"] == 200
    assert table.loc[hub, "scale_p50"] == pytest.approx(73.0 / 49.0, abs=0.02)
    assert table.loc[transit, "scale_p50"] == pytest.approx(1.0, abs=0.02)
    scores = pd.DataFrame({"p10_h": [40.0] * 3, "p50_h": [48.0] * 3, "p90_h": [56.0] * 3})
    served = calibration.apply_corrections(
        scores,
        ["slowco", "slowco", "slowco"],
        table.reset_index(),
        within=pd.DataFrame(
            {"current_stage": ["at_hub", "in_transit", "at_hub"], "warehouse": ["WH-1", "WH-1", "WH-2"]}
        ),
    )
    assert served.loc[0, "p50_h"] == pytest.approx(49.0 * table.loc[hub, "scale_p50"] - 1.0)
    assert served.loc[1, "p50_h"] == pytest.approx(49.0 * table.loc[transit, "scale_p50"] - 1.0)
    assert served.loc[2, "p50_h"] == pytest.approx(49.0 * table.loc["slowco", "scale_p50"] - 1.0)  # unseen cell
    # A stage with fewer forecasts than min_forecasts takes its carrier's correction as it is.
    thin = calibration.estimate_corrections(
        forecasts, pd.Timestamp("2026-11-10"), CalibrationSettings(shrink_forecasts=0, min_forecasts=201)
    ).set_index("value")
    assert thin.loc[hub, "scale_p50"] == thin.loc["slowco", "scale_p50"]
    flat = calibration.estimate_corrections(forecasts, pd.Timestamp("2026-11-10"), CalibrationSettings(within=()))
    assert set(flat["value"]) == {"*", "fastco", "slowco"}


def _due_forecasts(lower_misses: int, upper_misses: int, n: int = 100, p90_h: float = 30.0) -> pd.DataFrame:
    """n forecasts made at 8 Nov 00:00 with served bounds 10 h and `p90_h`: `lower_misses` delivered
    after 5 h (before the p10), `upper_misses` never delivered, the rest after 20 h."""
    made = pd.Timestamp("2026-11-08")
    delivered = [made + pd.Timedelta(hours=5)] * lower_misses + [pd.NaT] * upper_misses
    delivered += [made + pd.Timedelta(hours=20)] * (n - len(delivered))
    return pd.DataFrame(
        {
            "as_of_at": [made] * n,
            "delivered_at": delivered,
            "served_p10_h": [10.0] * n,
            "served_p90_h": [p90_h] * n,
        }
    )


def test_bound_levels_move_by_the_gain_times_how_often_the_served_bounds_missed():
    at = pd.Timestamp("2026-11-10")  # both bounds are due: 8 Nov 10:00 and 9 Nov 06:00
    # lower: 20% missed -> 10% - 0.5 * (20% - 10%) = 5%; upper: 30% missed -> 10% - 0.5 * 20% = 0,
    # clipped to 2%, so the p90 is estimated at the 98% level
    assert calibration.bound_levels(_due_forecasts(20, 30), at, CalibrationSettings()) == pytest.approx(
        (0.05, 0.5, 0.98)
    )
    # bounds that held more often than their share narrow: 4% and 6% missed -> 13% and 88%
    assert calibration.bound_levels(_due_forecasts(4, 6), at, CalibrationSettings()) == pytest.approx((0.13, 0.5, 0.88))
    # a p90 not yet due (8 Nov + 100 h) keeps its share; gain 0 or no served bounds keep both
    assert calibration.bound_levels(_due_forecasts(20, 30, p90_h=100.0), at, CalibrationSettings()) == (
        pytest.approx((0.05, 0.5, 0.9))
    )
    assert calibration.bound_levels(_due_forecasts(20, 30), at, CalibrationSettings(level_gain=0.0)) == (0.1, 0.5, 0.9)
    no_served = _due_forecasts(20, 30).drop(columns=["served_p10_h", "served_p90_h"])
    assert calibration.bound_levels(no_served, at, CalibrationSettings()) == (0.1, 0.5, 0.9)
    # too few due bounds (fewer than min_forecasts) keep their share
    few = calibration.bound_levels(_due_forecasts(2, 3, n=10), at, CalibrationSettings())
    assert few == (0.1, 0.5, 0.9)


def test_the_corrections_are_estimated_at_the_adapted_levels():
    orders = {"cancelled_at": pd.NaT, "carrier": "dhl", "current_stage": "shipped", "warehouse": "WH-1"}
    frame = _due_forecasts(20, 30).assign(**orders, p10_h=10.0, p50_h=15.0, p90_h=30.0)
    # the 30 late ones arrive 31 … 60 h after the forecast, all before the run
    late = frame["delivered_at"].isna()
    frame.loc[late, "delivered_at"] = pd.Timestamp("2026-11-08") + pd.to_timedelta(np.arange(31, 61), unit="h")
    at = pd.Timestamp("2026-11-12")
    adapted = calibration.estimate_corrections(frame, at, CalibrationSettings(within=())).set_index("value")
    fixed = calibration.estimate_corrections(frame, at, CalibrationSettings(within=(), level_gain=0.0))
    fixed = fixed.set_index("value")
    # 90% vs 98%: the 90th and the 98th of the 100 delivery times, 50 h and 58 h (1 + hours over 1 + 30 h)
    assert fixed.loc["*", "scale_p90"] == pytest.approx(51 / 31)
    assert adapted.loc["*", "scale_p90"] == pytest.approx(59 / 31)
    # the p10 at 5% instead of 10%: both fall among the 20 delivered after 5 h
    assert adapted.loc["*", "scale_p10"] == fixed.loc["*", "scale_p10"] == pytest.approx(6 / 11)
    # the levels are kept beside the factors, on every row of the window's table
    assert adapted[["level_p10", "level_p90"]].values.tolist() == [[0.05, 0.98]] * len(adapted)
    assert fixed[["level_p10", "level_p90"]].values.tolist() == [[0.1, 0.9]] * len(fixed)
