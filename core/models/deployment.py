"""The fit that serves: trained on every journey known at the as-of instant, with still-open journeys as censored rows,
recent prefixes weighing more, and interval corrections measured out of sample first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core.errors import ConfigError
from core.models import estimators
from core.models.training_data import prepare_features


def deployed_rows(frame: pd.DataFrame, as_of: pd.Timestamp, horizon_h: float) -> pd.DataFrame:
    """The rows a deployed fit learns from: prefixes at instants at least `horizon_h` before `as_of`,
    with censoring handled instead of dropped.

    At any instant the journeys still open are the long ones; keeping only finished journeys biases
    every label short, most when durations trend up. A prefix whose order is still open at `as_of` gets
    the remaining time known so far (`as_of` − its instant) as its target: a lower bound at least
    `horizon_h` long, above the quantiles of nearly every prefix, where the quantile loss only needs
    to know which side the truth is on. Cancelled orders have no delivery time and are left out of
    the forecaster's rows (`remaining_h` stays NaN)."""
    cutoff = as_of - pd.Timedelta(hours=horizon_h)
    rows = frame[pd.to_datetime(frame["as_of_at"]) <= cutoff].copy()
    still_open = rows["order_ended_at"].isna() if "order_ended_at" in rows else rows["remaining_h"].isna()
    known_so_far = (as_of - pd.to_datetime(rows["as_of_at"])).dt.total_seconds() / 3600.0
    rows["remaining_h"] = rows["remaining_h"].where(~still_open, known_so_far)
    rows["censored"] = still_open.to_numpy()
    return rows


DEPLOY_CALIBRATION_SHARE = 0.16  # the newest instants of the deployed rows measure the corrections


# The deployed fit learns from prefixes old enough that nearly every outcome is known (those still open
# count as not yet delivered): the 95th percentile of the remaining time of recent prefixes, within
# these bounds. Shorter is fresher but censors more; on the 100-day demo 4 days beat 7.
DEPLOY_HORIZON_MIN_H = 4 * 24.0
DEPLOY_HORIZON_MAX_H = 14 * 24.0
DEPLOY_HORIZON_QUANTILE = 0.95


def deploy_horizon_h(frame: pd.DataFrame, as_of: pd.Timestamp) -> float:
    """How old a prefix must be to serve as a deployed-fit row: the DEPLOY_HORIZON_QUANTILE of the
    remaining time of the prefixes two to six weeks before `as_of` (whose outcomes are all known),
    within [DEPLOY_HORIZON_MIN_H, DEPLOY_HORIZON_MAX_H]."""
    instants = pd.to_datetime(frame["as_of_at"])
    settled = frame["remaining_h"][
        (instants <= as_of - pd.Timedelta(days=14)) & (instants > as_of - pd.Timedelta(days=42))
    ].dropna()
    measured = float(settled.quantile(DEPLOY_HORIZON_QUANTILE)) if len(settled) else DEPLOY_HORIZON_MIN_H
    return float(np.clip(measured, DEPLOY_HORIZON_MIN_H, DEPLOY_HORIZON_MAX_H))


def fit_deployed(
    frame: pd.DataFrame,
    as_of: pd.Timestamp,
    categorical: list[str],
    numeric: list[str],
    *,
    horizon_h: float,
    forecaster_params: dict[str, Any] | None = None,
    classifier_params: dict[str, Any] | None = None,
) -> tuple[Pipeline, Pipeline, tuple[str, str]]:
    """The models that serve: fitted on every row of `deployed_rows`, the newest included.

    The interval corrections are measured out of sample first: the boosters are fitted without the
    newest instants (the most recent matured window), corrected on them, then fitted again on every
    row keeping those corrections. The classifier is calibrated on the same newest window."""
    rows = deployed_rows(frame, as_of, horizon_h)
    if rows.empty:
        raise ConfigError("no prefixes old enough to have known outcomes; simulate or import more history")
    instants = pd.to_datetime(rows["as_of_at"])
    recent = (instants >= instants.quantile(1.0 - DEPLOY_CALIBRATION_SHARE)).to_numpy()
    x = prepare_features(rows, categorical, numeric)
    has_remaining = rows["remaining_h"].notna().to_numpy()
    forecaster = estimators.make_forecaster(categorical, numeric, **(forecaster_params or {}))
    forecaster.fit(
        x[has_remaining],
        rows["remaining_h"].to_numpy()[has_remaining],
        model__calibration_mask=recent[has_remaining],
        model__refit_on_all=True,
    )
    has_label = rows["stuck_label"].notna().to_numpy()
    classifier = estimators.make_classifier(categorical, numeric, **(classifier_params or {}))
    classifier.fit(
        x[has_label], rows["stuck_label"].to_numpy()[has_label].astype(int), model__calibration_mask=recent[has_label]
    )
    window = (pd.Timestamp(rows["order_started_at"].min()).isoformat(), pd.Timestamp(instants.max()).isoformat())
    return forecaster, classifier, window
