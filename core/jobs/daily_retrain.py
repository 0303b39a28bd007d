"""When the daily run retrains (schedule or alert, with a cooldown), and the live gate that judges
the candidate in shadow on its matured live forecasts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from core.config import StorePath
from core.domain import end_of_day
from core.jobs import retraining
from core.jobs.daily_settings import DailySettings
from core.monitor import alerts as monitor_alerts
from core.monitor import assumptions, shadow
from core.registry import promotion
from core.registry import versions as registry
from core.registry.gate import GateDecision, GatePolicy, evaluate_gate, load_gate_policy
from core.registry.versions import ModelVersion
from core.scoring import batch

# Alerts that start a retrain: the world moved (a new category such as a new carrier, many drifted
# features) or the champion's live accuracy decayed.
RETRAIN_RULES: tuple[str, ...] = ("drift_share", "new_category", "accuracy_decay", "coverage_decay")


def retrain_reason(
    alerts: Sequence[monitor_alerts.Alert],
    champion: batch.ServingModels | None,
    as_of: date,
    settings: DailySettings,
    store_path: StorePath,
) -> str | None:
    """Why today's run retrains, if it does: `retrain_every_days` since the last attempt (the newest
    version, whatever became of it), or a drift/decay alert once `retrain_cooldown_days` have passed
    since that attempt (a trigger that holds for weeks must not retrain every day). With no champion
    although models were trained (the go-live's candidates failed their gate), the schedule tries
    again on the longer history; a store that never trained waits for its first training."""
    trained = registry.list_versions("forecaster", store_path)
    if not trained:
        return None
    newest = trained[-1]
    known = (newest.backtest or {}).get("as_of") or (newest.training_window or [None])[-1]
    # The day whose end it was trained at (its as-of instant is that day's end, i.e. the next midnight).
    trained_day = (pd.Timestamp(known) - pd.Timedelta(microseconds=1)).date() if known else None
    days_since = (as_of - trained_day).days if trained_day else settings.retrain_every_days
    if champion is None:
        every = settings.retrain_every_days
        if every > 0 and days_since >= every:
            return f"no champion yet: {days_since} days since the last attempt (every {every})"
        return None
    in_shadow = newest.status == "candidate"
    fired = sorted({a.rule for a in alerts if a.rule in RETRAIN_RULES}) if settings.retrain_on_alerts else []
    # A candidate in shadow awaits its live verdict (`live_gate`) for one full cycle: a trigger does not
    # replace it sooner (it may predate the change that fired), and the schedule replaces it then. A
    # schedule that waited for the verdict left a stale champion serving for the candidate's whole
    # 10 mornings in shadow when the candidate lost on the margin (a 100-day demo build in which no
    # trigger fired: no retrain from 11-11 to 11-21).
    cooldown = settings.retrain_every_days if in_shadow else settings.retrain_cooldown_days
    if fired and days_since >= cooldown:
        return "alert: " + ", ".join(fired)
    if settings.retrain_every_days > 0 and days_since >= settings.retrain_every_days:
        return f"schedule: {days_since} days since the last retrain (every {settings.retrain_every_days})"
    return None


def start_retrain(
    as_of: date,
    store_path: StorePath,
    settings: DailySettings,
    reason: str,
    champion_decayed: bool = False,
) -> dict[str, Any]:
    """Retrain through the model factory on what was known at the end of `as_of`."""
    outcome = retraining.retrain(
        store_path,
        as_of=end_of_day(as_of),
        actor=f"daily ({reason})",
        policy=settings.gate,
        max_rows=settings.retrain_max_rows,
        model_params=settings.retrain_params,
        champion_decayed=champion_decayed,
    )
    return {"reason": reason, **{kind: v["status"] for kind, v in outcome["versions"].items()}}


def live_gate(
    as_of: date, store_path: StorePath, settings: DailySettings, *, champion_decayed: bool
) -> dict[str, Any] | None:
    """Judge the shadowed forecaster against the champion on their matured live forecasts: promote it
    (or, without auto-promotion, put it up for approval) when it wins, reject it when it has not won
    within `live_max_days` mornings; wait otherwise. None when there is nothing in shadow."""
    champion = registry.get_champion("forecaster", store_path)
    candidate = _candidate_in_shadow(champion, store_path)
    if champion is None or candidate is None:
        return None
    policy = settings.gate or load_gate_policy()
    as_of_at = end_of_day(as_of)
    pairs = shadow.live_pairs(candidate.version_id, champion.version_id, as_of_at, store_path)
    if pairs.empty:
        return None
    costs = assumptions.load_assumptions(store_path, at=as_of_at)
    challenger_eval, champion_eval, mornings = shadow.live_evaluations(pairs, costs)
    shadow_days = int(pairs["as_of_date"].nunique())
    outcome: dict[str, Any] = {
        "version": candidate.version_id,
        "mornings": len(mornings),
        "n": challenger_eval["n"],
    }
    if len(mornings) < policy.live_min_days or challenger_eval["n"] < policy.live_min_forecasts:
        return {**outcome, "action": "waiting"}
    decision = evaluate_gate(challenger_eval, champion_eval, None, policy, champion_decayed=champion_decayed, live=True)
    action = _act_on_live_decision(candidate, champion, decision, shadow_days, policy, store_path)
    return {**outcome, "action": action, "reasons": decision.reasons}


def _candidate_in_shadow(champion: ModelVersion | None, store_path: StorePath) -> ModelVersion | None:
    """The newest forecaster trained after the champion and still a candidate; older such candidates
    are rejected, since only the newest is in shadow and the others will never be judged live."""
    versions = registry.list_versions("forecaster", store_path)
    waiting = [
        v
        for v in versions
        if v.status == "candidate" and champion is not None and v.version_number > champion.version_number
    ]
    if champion is None or not waiting:
        return None
    candidate = waiting[-1]
    for older in waiting[:-1]:
        promotion.reject(
            older.version_id,
            actor="live gate",
            store_path=store_path,
            reason=f"superseded in shadow by {candidate.version_id}",
        )
    return candidate


def _act_on_live_decision(
    candidate: ModelVersion,
    champion: ModelVersion,
    decision: GateDecision,
    shadow_days: int,
    policy: GatePolicy,
    store_path: StorePath,
) -> str:
    """Record a passed verdict, reject a candidate out of time, else wait; the action taken."""
    actor = "live gate"
    if decision.passed:
        version = promotion.record_gate(
            candidate.version_id,
            decision,
            expected_champion=champion.version_id,
            actor=actor,
            store_path=store_path,
        )
        return version.status
    if shadow_days >= policy.live_max_days:
        promotion.reject(
            candidate.version_id,
            actor=actor,
            store_path=store_path,
            reason=f"not better than the champion after {shadow_days} mornings in shadow: "
            + "; ".join(decision.reasons),
        )
        return "rejected"
    return "waiting"
