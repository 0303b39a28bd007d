"""Retrain: train both challengers, evaluate them beside the champions, gate and register them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.config import StorePath
from core.domain import MODEL_KINDS
from core.jobs import runs
from core.models import training
from core.models.training import DEFAULT_MAX_ROWS
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
) -> dict[str, Any]:
    """Train both challengers, score them and the champions on the same holdout, gate, register.

    A passed gate promotes at once when auto-promotion is on; otherwise the version awaits approval.
    `max_rows` and `model_params` bound the work (the daily trigger and the demo keep to a budget).
    """
    policy = policy or load_gate_policy()
    params = {"as_of": as_of, "actor": actor, "max_rows": max_rows}
    with runs.job_run("retrain", params, store_path) as run:
        runs.report_progress(run, 0.05, "building training prefixes and fitting both models", store_path)
        trained = training.train_candidates(
            store_path, as_of, max_rows=max_rows or DEFAULT_MAX_ROWS,
            forecaster_params=model_params, classifier_params=model_params,
        )
        challengers = {"forecaster": trained.forecaster, "stuck_classifier": trained.classifier}
        outcome: dict[str, Any] = {"train_window": list(trained.train_window), "versions": {}}
        for step, kind in enumerate(MODEL_KINDS):
            runs.report_progress(run, 0.7 + 0.15 * step, f"gating and registering the {kind}", store_path)
            champion_eval, champion_id = None, None
            if registry.get_champion(kind, store_path) is not None:
                champion, champion_model = registry.load_champion(kind, store_path)
                champion_id = champion.version_id
                champion_eval = training.evaluate_model(kind, champion_model, trained.holdout)
            challenger_eval = trained.evaluations[kind]
            decision = evaluate_gate(
                challenger_eval, champion_eval, trained.evaluations[f"baseline_{kind}"], policy
            )
            version = registry.register_and_gate(
                kind, challengers[kind], training_window=list(trained.train_window),
                feature_columns=trained.feature_columns, metrics=challenger_eval["metrics"],
                backtest=trained.backtest, evaluation=challenger_eval, decision=decision,
                expected_champion=champion_id, actor=actor, store_path=store_path,
            )
            outcome["versions"][kind] = {
                "version": version.version_id, "status": version.status, "previous_champion": champion_id,
                "gate_passed": decision.passed, "gate_reasons": decision.reasons,
                "business_cost": challenger_eval["business_cost"],
                "champion_business_cost": champion_eval["business_cost"] if champion_eval else None,
            }
        run.figures.update({kind: outcome["versions"][kind]["status"] for kind in MODEL_KINDS})
        outcome["run_id"] = run.run_id
    return outcome
