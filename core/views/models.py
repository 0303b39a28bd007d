"""The Models page's figures: champion and challenger compared on the same rows — the gate's figures
from the retrain that judged the challenger, and, once a candidate's shadow forecasts have matured,
their live comparison — each model's age and windows, and the champion's latest interval corrections.

A champion's own go-live backtest and a challenger's backtest on a later holdout are two different
sets of rows: set side by side they mislead. Every comparison here is on one set of rows, named by
its hash."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from core import store
from core.config import StorePath
from core.domain import end_of_day
from core.monitor import assumptions, shadow
from core.registry import versions as registry
from core.registry.gate import rows_key
from core.scoring import calibration as intervals
from core.views import today

# The figures of one evaluation a reader compares, in this order (keys of its `metrics` or top level).
FIGURES: tuple[str, ...] = (
    "n",
    "business_cost",
    "mae_h",
    "mean_error_h",
    "coverage_80",
    "interval_width_h",
    "pr_auc",
    "roc_auc",
)


def reference_instant(store_path: StorePath = None) -> datetime:
    """The instant the page judges from: the end of the latest daily run, else now."""
    days = today.run_days(store_path)
    return end_of_day(days[0]) if days else store.utcnow()


def age_days(version: registry.ModelVersion, at: datetime) -> float | None:
    """Days between what the version knew when it was trained (`backtest.as_of`) and `at`."""
    known = version.backtest.get("as_of") if isinstance(version.backtest, dict) else None
    if not known:
        return None
    return (pd.Timestamp(at) - pd.Timestamp(known)).total_seconds() / 86_400.0


def model_card(version: registry.ModelVersion, at: datetime) -> dict[str, Any]:
    """A version's status, holdout MAE, both windows (`registry.serving_summary`) and its data's age at `at`."""
    return {
        **registry.serving_summary(version),
        "status": version.status,
        "is_champion": version.is_champion,
        "age_days": age_days(version, at),
    }


def evaluation_figures(evaluation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The compared figures of one evaluation dict (None stays None)."""
    if not evaluation:
        return None
    metrics = evaluation.get("metrics") or {}
    return {key: evaluation.get(key, metrics.get(key)) for key in FIGURES}


def champion_when_trained(version: registry.ModelVersion, store_path: StorePath = None) -> str | None:
    """The champion of the version's kind when it was registered: the one the retrain compared it with."""
    try:
        rows = store.fetch_df("registry_live_at", {"kind": version.kind, "before": version.created_at}, store_path)
    except duckdb.CatalogException:
        return None
    return str(rows["version_id"].iloc[0]) if len(rows) else None


def gate_comparison(version: registry.ModelVersion, store_path: StorePath = None) -> dict[str, Any] | None:
    """What the retrain's gate saw: the version, the champion of the time and the baseline, all on the
    version's holdout rows (`rows_hash`); None for a version without an evaluation."""
    evaluation = version.evaluation or {}
    if "business_cost" not in evaluation:
        return None
    champion = evaluation.get("champion_on_same_rows")
    baseline = evaluation.get("baseline_on_same_rows")
    mine = rows_key(evaluation)
    return {
        "version": version.version_id,
        "champion_version": champion_when_trained(version, store_path) if champion else None,
        "rows_hash": evaluation.get("rows_hash"),
        "n": int(evaluation["n"]),
        "same_rows": all(rows_key(other) == mine for other in (champion, baseline) if other),
        "challenger": evaluation_figures(evaluation),
        "champion": evaluation_figures(champion),
        "baseline": evaluation_figures(baseline),
        "segments": {
            "challenger": evaluation.get("segments") or {},
            "champion": (champion or {}).get("segments") or {},
        },
    }


def shadow_candidate(kind: str, store_path: StorePath = None) -> registry.ModelVersion | None:
    """The version scored in shadow beside the champion: the newest candidate newer than it (as the
    daily run's live gate picks it); None for the classifier or when nothing waits."""
    champion = registry.get_champion(kind, store_path)
    if kind != "forecaster" or champion is None:
        return None
    waiting = [
        v
        for v in registry.list_versions(kind, store_path)
        if v.status == "candidate" and v.version_number > champion.version_number
    ]
    return waiting[-1] if waiting else None


def shadow_comparison(
    candidate: registry.ModelVersion, champion: registry.ModelVersion, at: datetime, store_path: StorePath = None
) -> dict[str, Any]:
    """The live gate's figures of a shadowed candidate and the champion on the same delivered
    (morning, order) rows of matured mornings (`shadow.live_evaluations`), and how many mornings."""
    pairs = shadow.live_pairs(candidate.version_id, champion.version_id, at, store_path)
    out: dict[str, Any] = {
        "version": candidate.version_id,
        "champion_version": champion.version_id,
        "shadow_mornings": int(pairs["as_of_date"].nunique()) if len(pairs) else 0,
        "matured_mornings": 0,
        "n": 0,
        "rows_hash": None,
        "challenger": None,
        "champion": None,
    }
    if pairs.empty:
        return out
    costs = assumptions.load_assumptions(store_path, at=at)
    challenger_eval, champion_eval, mornings = shadow.live_evaluations(pairs, costs)
    return {
        **out,
        "matured_mornings": len(mornings),
        "n": int(challenger_eval["n"]),
        "rows_hash": challenger_eval["rows_hash"],
        "first_morning": pd.Timestamp(pairs["as_of_date"].min()).date(),
        "challenger": evaluation_figures(challenger_eval),
        "champion": evaluation_figures(champion_eval),
    }


def interval_corrections(version_id: str, store_path: StorePath = None) -> pd.DataFrame:
    """The interval corrections the version served with on the latest day it was corrected, per
    segment value (`*`: every order); empty when it never was."""
    try:
        return store.fetch_df("models_calibration_latest", {"version": version_id}, store_path)
    except duckdb.CatalogException:
        columns = ["as_of_date", "segment", "value", "forecasts", "delivered"]
        return pd.DataFrame(columns=[*columns, *intervals.CORRECTION_COLUMNS, *intervals.LEVEL_COLUMNS])


def compare_models(
    kind: str, champion_id: str | None, challenger_id: str | None, store_path: StorePath = None
) -> dict[str, Any]:
    """Everything the Models page compares for one kind: cards of champion and challenger, the gate's
    same-rows figures of the challenger (else of the champion's own promotion), the live shadow
    comparison when a candidate is in shadow, and the champion's latest interval corrections."""
    at = reference_instant(store_path)
    ran = bool(today.run_days(store_path))
    champion = registry.get_version(champion_id, store_path) if champion_id else None
    challenger = registry.get_version(challenger_id, store_path) if challenger_id else None
    judged = challenger or champion
    candidate = shadow_candidate(kind, store_path)
    return {
        "at": at,
        "at_label": "the end of the latest daily run" if ran else "now (no daily run yet)",
        "cards": {
            role: model_card(v, at) for role, v in (("champion", champion), ("challenger", challenger)) if v is not None
        },
        "gate": gate_comparison(judged, store_path) if judged is not None else None,
        "shadow": shadow_comparison(candidate, champion, at, store_path)
        if candidate is not None and champion is not None
        else None,
        "corrections": interval_corrections(champion.version_id, store_path)
        if champion is not None and kind == "forecaster"
        else interval_corrections("", store_path),
    }
