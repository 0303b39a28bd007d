"""Retrain: train both challengers, evaluate them beside the champions on the same rows, gate and
register the fits that would serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from core import logs
from core.config import StorePath
from core.domain import MODEL_KINDS, CostAssumptions, ModelKind
from core.engine import Engine
from core.jobs import runs
from core.models import evaluate, training
from core.models.training_data import DEFAULT_MAX_ROWS, build_training_frame
from core.monitor import assumptions
from core.registry import registration
from core.registry import versions as registry
from core.registry.gate import GatePolicy, evaluate_gate, load_gate_policy


def retrain(
    store_path: StorePath = None,
    *,
    as_of: datetime | None = None,
    actor: str = "retrain",
    policy: GatePolicy | None = None,
    max_rows: int | None = None,
    model_params: dict[str, Any] | None = None,
    champion_decayed: bool = False,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Train both challengers, score them and the champions on the same holdout rows, gate, register.

    The gate judges the backtest fit (trained before the holdout); the version that is registered and
    would serve is the deployed fit on every journey known at `as_of` (`models.fit_deployed`). The
    champion is judged only on holdout rows newer than its own training data, so it is never scored
    on rows it learned from. A passed gate promotes at once when auto-promotion is on; otherwise the
    version awaits approval; one that lost on the margin alone stays a candidate in shadow.
    `champion_decayed` (the daily run saw its live error past the threshold) lowers the margin to
    the policy's `decay_margin`. `max_rows` and `model_params` bound the work. `engine` builds and
    samples the training prefixes elsewhere (Spark over a lake: `retrain --engine spark`); the fits,
    the gate and the registry stay here, on the store.
    """
    policy = policy or load_gate_policy()
    costs = assumptions.load_assumptions(store_path, at=as_of)
    params = {"as_of": as_of, "actor": actor, "max_rows": max_rows, "champion_decayed": champion_decayed}
    with runs.job_run("retrain", params, store_path) as run:
        logs.pause_point("retrain:claimed")
        runs.report_progress(run, 0.05, "building training prefixes and fitting both models", store_path)
        frame = None
        if engine is not None:
            frame = build_training_frame(store_path, as_of, max_rows=max_rows or DEFAULT_MAX_ROWS, engine=engine)
            run.figures["engine"] = engine.name
        trained = training.train_candidates(
            store_path,
            as_of,
            frame=frame,
            max_rows=max_rows or DEFAULT_MAX_ROWS,
            costs=costs,
            forecaster_params=model_params,
            classifier_params=model_params,
            deploy=True,
        )
        # Per kind: the fit that would serve, the backtest fit the gate judges, and the baseline.
        fits = {
            "forecaster": (trained.deployed_forecaster, trained.forecaster, trained.baseline_forecaster),
            "stuck_classifier": (trained.deployed_classifier, trained.classifier, trained.baseline_classifier),
        }
        window = list(trained.deployed_window or trained.train_window)
        outcome: dict[str, Any] = {"train_window": window, "evaluated_window": list(trained.train_window)}
        outcome["versions"] = {}
        for step, kind in enumerate(MODEL_KINDS):
            runs.report_progress(run, 0.7 + 0.15 * step, f"gating and registering the {kind}", store_path)
            gated = GateRun(kind, trained, window, costs, policy, champion_decayed, actor)
            outcome["versions"][kind] = _gate_and_register(gated, *fits[kind], store_path=store_path)
        run.figures.update({kind: outcome["versions"][kind]["status"] for kind in MODEL_KINDS})
        outcome["run_id"] = run.run_id
    return outcome


@dataclass(frozen=True)
class GateRun:
    """What gating one kind needs beside its fits."""

    kind: ModelKind
    trained: training.TrainingRun
    window: list[Any]
    costs: CostAssumptions
    policy: GatePolicy
    champion_decayed: bool
    actor: str


def _gate_and_register(
    gated: GateRun, served: Any, evaluated: Any, baseline: Any, *, store_path: StorePath
) -> dict[str, Any]:
    """Score the challenger, the champion and the baseline of one kind on the same holdout rows, gate
    the challenger and register the fit that would serve; the version's outcome."""
    champion_eval, champion_id = None, None
    holdout = gated.trained.holdout
    if registry.get_champion(gated.kind, store_path) is not None:
        champion, champion_model = registry.load_champion(gated.kind, store_path)
        champion_id = champion.version_id
        holdout = unseen_rows(gated.trained.holdout, champion.training_window)
        champion_eval = evaluate.evaluate_model(gated.kind, champion_model, holdout, gated.costs)
    challenger_eval = evaluate.evaluate_model(gated.kind, evaluated, holdout, gated.costs)
    baseline_eval = evaluate.evaluate_model(gated.kind, baseline, holdout, gated.costs)
    decision = evaluate_gate(
        challenger_eval, champion_eval, baseline_eval, gated.policy, champion_decayed=gated.champion_decayed
    )
    version = registration.register_and_gate(
        gated.kind,
        served,
        training_window=gated.window,
        feature_columns=gated.trained.feature_columns,
        metrics=challenger_eval["metrics"],
        backtest=gated.trained.backtest,
        decision=decision,
        # The champion on the very rows the challenger was judged on, for the Models page.
        evaluation={**challenger_eval, "champion_on_same_rows": champion_eval, "baseline_on_same_rows": baseline_eval},
        expected_champion=champion_id,
        actor=gated.actor,
        store_path=store_path,
    )
    return {
        "version": version.version_id,
        "status": version.status,
        "previous_champion": champion_id,
        "gate_passed": decision.passed,
        "gate_reasons": decision.reasons,
        "business_cost": challenger_eval["business_cost"],
        "champion_business_cost": champion_eval["business_cost"] if champion_eval else None,
    }


MIN_UNSEEN_ROWS = 200


def unseen_rows(holdout: pd.DataFrame, champion_window: Any) -> pd.DataFrame:
    """The holdout rows at instants after the champion's training data ends (it learned from none of
    them); the whole holdout when too few are left to compare on."""
    try:
        end = pd.Timestamp(champion_window[-1])
    except (TypeError, IndexError, ValueError):
        return holdout
    unseen = holdout[pd.to_datetime(holdout["as_of_at"]) > end]
    return unseen.reset_index(drop=True) if len(unseen) >= MIN_UNSEEN_ROWS else holdout
