"""Censoring: on a world whose journeys got slower week by week, a fit on the journeys finished by
the as-of instant learns them short (the open ones are the long ones); the deployed fit (prefixes old
enough, open orders counted as not yet delivered) is unbiased for the next week. (A trend that goes
on past the data is a different matter: no fit on the past extrapolates it; the daily interval
calibration follows it.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models import deployment, evaluate, training

START = pd.Timestamp("2026-09-01")
AS_OF = START + pd.Timedelta(days=70)
HOURS = 3600.0


def _journeys(rng: np.random.Generator, days: int) -> pd.DataFrame:
    """Orders arriving uniformly; from day 49 a slow new carrier takes 40% of them, so journeys get
    longer week by week as its share of the open orders builds up."""
    n = days * 60
    started = START + pd.to_timedelta(np.sort(rng.uniform(0, days * 24, n)), unit="h")
    age_days = (started - START).total_seconds().to_numpy() / 86400.0
    slow = (age_days >= 49) & (rng.uniform(size=n) < 0.4)
    carrier = np.where(slow, "slowco", rng.choice(["fastco", "okco"], n))
    typical_h = np.select([carrier == "slowco", carrier == "okco"], [150.0, 80.0], 60.0)
    # Symmetric noise: the median is the mean, so a right median forecast has no bias to speak of.
    duration = np.clip(typical_h + rng.normal(0.0, 12.0, n), 2.0, None)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "order_started_at": started,
            "order_ended_at": started + pd.to_timedelta(duration, unit="h"),
            "carrier": carrier,
        }
    )


def _prefixes(journeys: pd.DataFrame, instants: pd.DatetimeIndex, known_at: pd.Timestamp) -> pd.DataFrame:
    """Every order open at each instant, with targets as they were known at `known_at`."""
    parts = []
    for at in instants:
        open_ = journeys[(journeys["order_started_at"] <= at) & (journeys["order_ended_at"] > at)]
        parts.append(open_.assign(as_of_at=at))
    frame = pd.concat(parts, ignore_index=True)
    ended = frame["order_ended_at"] <= known_at
    frame["elapsed_h"] = (frame["as_of_at"] - frame["order_started_at"]).dt.total_seconds() / HOURS
    frame["remaining_h"] = ((frame["order_ended_at"] - frame["as_of_at"]).dt.total_seconds() / HOURS).where(ended)
    frame["order_ended_at"] = frame["order_ended_at"].where(ended)
    frame["stuck_label"] = np.where(ended, 0.0, np.nan)
    return frame


def _bias_and_mae(model, rows: pd.DataFrame) -> tuple[float, float]:
    p50 = evaluate.predict_forecast(model, rows)["p50_h"].to_numpy()
    error = p50 - rows["remaining_h"].to_numpy()
    return float(error.mean()), float(np.abs(error).mean())


def _training_frame(history: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The columns `train_candidates` reads beside the features (one stage, a tenth stuck)."""
    known = history["remaining_h"].notna()
    return history.assign(
        stuck_label=np.where(known, (rng.uniform(size=len(history)) < 0.1).astype(float), np.nan),
        triage_group=history["as_of_at"],
        sample_fraction=1.0,
        as_of_date=history["as_of_at"].dt.floor("D"),
        prefix_len=1,
        current_stage="shipped",
    )


def test_the_deployed_fit_is_unbiased_next_week_where_the_old_fit_runs_short():
    rng = np.random.default_rng(3)
    journeys = _journeys(rng, 77)
    history = _prefixes(journeys, pd.date_range(START, AS_OF, freq="6h"), AS_OF)
    next_week = _prefixes(
        journeys, pd.date_range(AS_OF, AS_OF + pd.Timedelta(days=7), freq="6h"), pd.Timestamp("2030-01-01")
    )
    params = {"max_iter": 60}
    run = training.train_candidates(
        frame=_training_frame(history, rng),
        as_of=AS_OF.to_pydatetime(),
        embargo_h=7 * 24.0,
        forecaster_params=params,
        classifier_params={"max_iter": 5},
        deploy=True,
    )
    # Before: the served model was the backtest's fit, on finished journeys before the holdout.
    old_bias, old_mae = _bias_and_mae(run.forecaster, next_week)
    new_bias, new_mae = _bias_and_mae(run.deployed_forecaster, next_week)
    assert run.deployed_window is not None
    horizon = pd.Timedelta(hours=deployment.deploy_horizon_h(history, AS_OF))
    assert pd.Timedelta(days=4) <= horizon <= pd.Timedelta(days=7)  # the long new journeys lengthen it
    assert pd.Timestamp(run.deployed_window[1]) <= AS_OF - horizon  # days old, not weeks
    assert pd.Timestamp(run.train_window[1]) < AS_OF - pd.Timedelta(days=14)
    assert abs(new_bias) <= 0.10 * new_mae, (new_bias, new_mae)
    assert old_bias < -0.5 * old_mae, (old_bias, old_mae)  # the short-label bias the deployed fit removes
    slow = next_week["carrier"] == "slowco"
    # The new carrier alone: 52 h short before; within a seventh of its error now (its long journeys
    # are the most censored at a four-to-five-day horizon).
    old_slow_bias, old_slow_mae = _bias_and_mae(run.forecaster, next_week[slow])
    new_slow_bias, new_slow_mae = _bias_and_mae(run.deployed_forecaster, next_week[slow])
    assert old_slow_bias < -0.9 * old_slow_mae, (old_slow_bias, old_slow_mae)
    assert abs(new_slow_bias) <= 0.15 * new_slow_mae, (new_slow_bias, new_slow_mae)
