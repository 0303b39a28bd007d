"""Scoring open orders with the champion (and the challenger in shadow), and the champion's reference
sample; per-order reasons are in `reasons` (re-exported here).

The reference sample of a champion is the open orders at each midnight of the four weeks before it
first served, with the champion's scores; it is kept as Parquet beside the model artifacts, with its
calibrated drift thresholds, each with a recorded checksum (`checked_files`), so drift is always
measured against what the serving model learnt from, and a damaged or edited file is refused.
A challenger that cannot be loaded is left out of the day (and reported), never the champion.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import config, features, store
from core.config import StorePath
from core.domain import CostAssumptions
from core.models.evaluate import predict_forecast, predict_stuck
from core.monitor import drift_calibration
from core.registry import versions as registry
from core.scoring import checked_files
from core.scoring.reasons import explain_stuck as explain_stuck
from core.scoring.reasons import feature_groups as feature_groups
from core.scoring.reasons import model_inputs as model_inputs
from core.scoring.reasons import typical_values as typical_values

REFERENCE_DAYS = 28  # four of each weekday, so a day's batch is compared with its own weekday
REFERENCE_MAX_ROWS = 20_000
WARM_UP_DAYS = 7


@dataclass(frozen=True)
class ServingModels:
    """The versions and fitted models of one role (champion or challenger) for a day."""

    role: str
    forecaster_version: str
    classifier_version: str
    forecaster: Any
    classifier: Any


def _challenger_id(kind: str, champion_id: str, store_path: StorePath) -> str | None:
    """The newest version of a kind awaiting a decision, newer than the champion (None if none)."""
    versions = registry.list_versions(kind, store_path)
    champion = next((v for v in versions if v.version_id == champion_id), None)
    waiting = [
        v
        for v in versions
        if v.status in ("pending_approval", "candidate")
        and (champion is None or v.version_number > champion.version_number)
    ]
    return waiting[-1].version_id if waiting else None


def serving_versions(as_of_date: date, store_path: StorePath = None) -> dict[str, tuple[str, str]]:
    """role -> (forecaster version, classifier version) for a day: those it was already scored with
    (so a re-run is identical even after a promotion), else the champions and any challengers."""
    used = store.fetch_df("scoring_day_versions", {"as_of_date": as_of_date}, store_path)
    if len(used):
        return {str(r.role): (str(r.forecaster_version), str(r.classifier_version)) for r in used.itertuples()}
    fc, clf = registry.get_champion("forecaster", store_path), registry.get_champion("stuck_classifier", store_path)
    if fc is None or clf is None:
        return {}
    roles = {"champion": (fc.version_id, clf.version_id)}
    fc_chal = _challenger_id("forecaster", fc.version_id, store_path)
    clf_chal = _challenger_id("stuck_classifier", clf.version_id, store_path)
    if fc_chal or clf_chal:
        roles["challenger"] = (fc_chal or fc.version_id, clf_chal or clf.version_id)
    return roles


def load_serving(
    as_of_date: date, store_path: StorePath = None, failures: list[dict[str, str]] | None = None
) -> dict[str, ServingModels]:
    """The fitted models of each role for a day (empty before the first champion: no go-live yet).

    With `failures`, a challenger that cannot be loaded (a damaged artifact) is left out and
    reported there ({"step", "subject", "error"}): the shadow must never stop the champion serving.
    """
    loaded: dict[str, Any] = {}

    def model(version_id: str) -> Any:
        if version_id not in loaded:
            loaded[version_id] = registry.load_version(version_id, store_path)[1]
        return loaded[version_id]

    serving: dict[str, ServingModels] = {}
    for role, (fc_id, clf_id) in serving_versions(as_of_date, store_path).items():
        try:
            serving[role] = ServingModels(role, fc_id, clf_id, model(fc_id), model(clf_id))
        except Exception as exc:
            if role == "champion" or failures is None:
                raise
            failures.append({"step": "shadow", "subject": f"{fc_id} / {clf_id}", "error": str(exc)})
    return serving


SCORE_CHUNK_ROWS = 250_000


def score_frame(open_orders: pd.DataFrame, models: ServingModels) -> pd.DataFrame:
    """p10/p50/p90 remaining hours and stuck probability per open order (same index)."""
    if open_orders.empty:
        return pd.DataFrame(columns=["p10_h", "p50_h", "p90_h", "stuck_prob"], index=open_orders.index)
    # In chunks of rows: the encoded matrices of a million orders at once cost ≈0.5 GB more peak
    # memory, and a chunk this size keeps the per-call costs negligible.
    parts = []
    for start in range(0, len(open_orders), SCORE_CHUNK_ROWS):
        chunk = open_orders.iloc[start : start + SCORE_CHUNK_ROWS]
        quantiles = predict_forecast(models.forecaster, chunk)
        stuck = predict_stuck(models.classifier, chunk).rename("stuck_prob")
        parts.append(quantiles.join(stuck))
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def prediction_rows(
    open_orders: pd.DataFrame,
    scores: pd.DataFrame,
    models: ServingModels,
    as_of_date: date,
    as_of_at: datetime,
    scored_at: datetime,
    raw_scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`predictions` rows (schemas 006, 010) of one role: the served (calibrated) quantiles in
    p10_h..p90_h and the model's own ones beside them (`raw_scores`, default the same)."""
    at = pd.Timestamp(as_of_at)
    rows = pd.DataFrame(
        {
            "as_of_date": as_of_date,
            "as_of_at": at,
            "order_id": open_orders["order_id"].to_numpy(),
            "role": models.role,
            "forecaster_version": models.forecaster_version,
            "classifier_version": models.classifier_version,
            "current_stage": open_orders["current_stage"].to_numpy(),
            "elapsed_h": open_orders["elapsed_h"].to_numpy(dtype=float),
        }
    )
    for q in ("p10", "p50", "p90"):
        hours = scores[f"{q}_h"].to_numpy(dtype=float)
        rows[f"{q}_h"] = hours
        rows[f"eta_{q}_at"] = at + pd.to_timedelta(hours, unit="h")
    rows["stuck_prob"] = scores["stuck_prob"].to_numpy(dtype=float)
    rows["scored_at"] = scored_at
    raw = scores if raw_scores is None else raw_scores
    for q in ("p10", "p50", "p90"):
        rows[f"model_{q}_h"] = raw[f"{q}_h"].to_numpy(dtype=float)
    return rows


# ------------------------------------------------------------------------------- ETA shown


def eta_quantile(costs: CostAssumptions) -> float:
    """The forecast quantile to show as ETA: the newsvendor ratio late / (late + early) of the cost
    assumptions. A promise that turns out late costs `late_cost_per_day` a day (contacts, goodwill),
    one that is too cautious costs `early_promise_cost_per_day` (lost conversion); the expected cost
    is lowest at this quantile of the remaining time (0.73 with the defaults: an upper quantile)."""
    late, early = costs.late_cost_per_day, costs.early_promise_cost_per_day
    return float(late / (late + early)) if late + early > 0 else 0.5


def quantile_hours(scores: pd.DataFrame, q: float) -> np.ndarray:
    """Remaining hours at quantile q, interpolated linearly between the p10, p50 and p90 forecasts."""
    p10, p50, p90 = (scores[c].to_numpy(dtype=float) for c in ("p10_h", "p50_h", "p90_h"))
    if q >= 0.5:
        return p50 + (min(q, 0.9) - 0.5) / 0.4 * (p90 - p50)
    return p50 - (0.5 - max(q, 0.1)) / 0.4 * (p50 - p10)


# ------------------------------------------------------------------------------- reference sample


def reference_file(models: ServingModels, store_path: StorePath = None) -> Path:
    """Where the reference sample of a champion pair is kept (beside the model artifacts)."""
    folder = config.models_dir(config.store_path(store_path)) / "reference"
    return folder / f"{models.forecaster_version}__{models.classifier_version}.parquet"


def training_end(version_id: str, store_path: StorePath = None) -> datetime | None:
    """The end of a version's training window (midnight), or None when it is not recorded."""
    window = registry.get_version(version_id, store_path).training_window
    if isinstance(window, str):
        window = json.loads(window)
    if not window or len(window) < 2 or window[1] is None:
        return None
    return pd.Timestamp(window[1]).floor("D").to_pydatetime()


def build_reference(models: ServingModels, first_served_at: datetime, store_path: StorePath = None) -> pd.DataFrame:
    """Open orders at each of the REFERENCE_DAYS midnights before the champion first served, with its
    scores: the recent world it was trained for, in the same form as a daily batch. (Its training
    window's own start would reach back into a young store's warm-up, when nothing looks normal.)"""
    end = pd.Timestamp(first_served_at).floor("D").to_pydatetime() - timedelta(days=1)
    start = end - timedelta(days=REFERENCE_DAYS)
    first_event_at = store.read_status(store_path)["first_event_at"]
    if first_event_at is not None:
        # A young store's first week is warm-up (the world starts empty): never a normal day.
        start = max(start, pd.Timestamp(first_event_at).floor("D").to_pydatetime() + timedelta(days=WARM_UP_DAYS))
    frame = features.build_prefix_features(
        store_path,
        mode="snapshots",
        as_of=end,
        start=min(start, end - timedelta(days=1)),
        every_h=24.0,
        max_prefixes=REFERENCE_MAX_ROWS,
        with_targets=False,
    )
    scores = score_frame(frame, models)
    return frame.join(scores)


def load_reference(models: ServingModels, first_served_at: datetime, store_path: StorePath = None) -> pd.DataFrame:
    """The champion's reference sample, built on the first day it serves and then read from its file."""
    path = reference_file(models, store_path)
    if path.exists():
        return pd.read_parquet(io.BytesIO(checked_files.read_checked(path)))
    reference = build_reference(models, first_served_at, store_path)
    buffer = io.BytesIO()
    reference.to_parquet(buffer, index=False)
    checked_files.write_checked(path, buffer.getvalue())  # readers see the whole file or none
    return reference


def load_calibration(
    models: ServingModels,
    reference: pd.DataFrame,
    features_compared: Sequence[str],
    predictions: Sequence[str],
    categorical: Sequence[str],
    settings: Any,
    store_path: StorePath = None,
) -> dict[str, float]:
    """Per-column drift thresholds from the reference's own day-to-day variation (monitor's
    `calibrate_thresholds`), computed once per champion pair and kept beside its reference sample."""

    path = reference_file(models, store_path).with_suffix(".thresholds.json")
    wanted = sorted([*features_compared, *predictions])
    if path.exists():
        stored = json.loads(checked_files.read_checked(path))
        if stored.get("columns") == wanted:
            return {k: float(v) for k, v in stored["thresholds"].items()}
    calibrated = drift_calibration.calibrate_thresholds(
        reference, features_compared, predictions, categorical=categorical, settings=settings
    )
    text = json.dumps({"columns": wanted, "thresholds": calibrated}, sort_keys=True)
    checked_files.write_checked(path, text.encode())
    return calibrated
