"""The quality gate: may a challenger replace the champion?

A challenger passes only if, on the same holdout, it beats the baseline, is cheaper than the
champion by at least `margin` on the business metric, and makes no segment (carrier, region,
channel, ship mode, customer tier) with enough orders costlier than under the champion by more
than `segment_tolerance`. With no champion yet, only the baseline check applies.

Inputs are evaluation dicts produced by the models: `{"kind", "n", "business_cost", "metrics",
"segments": {column: {value: {"n", "business_cost", ...}}}}`; lower cost is better.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.domain import SEGMENT_COLUMNS
from core.errors import ConfigError, JourneyOpsError

# Relative slack on float comparisons, so "exactly at the margin" is not decided by rounding.
_EPS = 1e-9


class GateInputError(JourneyOpsError):
    """An evaluation handed to the gate is malformed or of the wrong kind."""


# The holdout checks whose failure leaves a forecaster a candidate in shadow instead of rejected.
SHADOW_ON_LOSS = frozenset({"margin"})
SHADOW_ON_LOSS_DECAYED = frozenset({"margin", "baseline", "segments"})


@dataclass(frozen=True)
class GatePolicy:
    """How much better a challenger must be, and how much worse a segment may get."""

    margin: float = 0.02  # challenger cost <= champion cost * (1 - margin)
    segment_tolerance: float = 0.10  # segment cost <= champion segment cost * (1 + tolerance)
    min_segment_n: int = 30  # smaller segments are too noisy to block a promotion
    auto_promote: bool = False  # a passed gate promotes at once; otherwise a person approves
    require_same_holdout: bool = True  # champion and baseline must be scored on the same rows
    # Once the champion's live error has decayed past its threshold, a challenger that is not worse
    # on the same rows is enough: keeping a decayed model needs a better reason than a tie.
    decay_margin: float = 0.0
    # The live comparison of a shadowed candidate: judged once this many matured forecasts on this
    # many mornings are in; rejected when it has not won after `live_max_days` mornings.
    live_min_forecasts: int = 300
    live_min_days: int = 1
    live_max_days: int = 10

    def __post_init__(self) -> None:
        if not 0.0 <= self.margin < 1.0:
            raise ConfigError(f"gate margin must be in [0, 1), got {self.margin}")
        if self.segment_tolerance < 0.0:
            raise ConfigError(f"gate segment tolerance must be >= 0, got {self.segment_tolerance}")
        if self.min_segment_n < 1:
            raise ConfigError(f"gate min segment n must be >= 1, got {self.min_segment_n}")


@dataclass(frozen=True)
class GateDecision:
    """The verdict: passed or not, one human-readable line per check, and the figures behind them."""

    passed: bool
    reasons: list[str]
    checks: dict[str, Any] = field(default_factory=dict)
    auto_promote: bool = False
    # Failed on the margin alone: it stays a candidate, scored in shadow until the live comparison.
    awaiting_live: bool = False

    @property
    def action(self) -> str:
        """What the registry does with the challenger: promote, pending_approval, candidate (in shadow,
        awaiting the live comparison) or rejected."""
        if not self.passed:
            return "candidate" if self.awaiting_live else "rejected"
        return "promote" if self.auto_promote else "pending_approval"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, stored with the version and in the audit log."""
        return {**asdict(self), "action": self.action}


def load_gate_policy() -> GatePolicy:
    """The gate policy from the environment ($JOURNEYOPS_GATE_MARGIN, …_SEGMENT_TOLERANCE, …_MIN_SEGMENT_N,
    $JOURNEYOPS_AUTO_PROMOTE).
    """
    try:
        return GatePolicy(
            margin=float(os.environ.get("JOURNEYOPS_GATE_MARGIN", "0.02")),
            segment_tolerance=float(os.environ.get("JOURNEYOPS_GATE_SEGMENT_TOLERANCE", "0.10")),
            min_segment_n=int(os.environ.get("JOURNEYOPS_GATE_MIN_SEGMENT_N", "30")),
            auto_promote=os.environ.get("JOURNEYOPS_AUTO_PROMOTE", "0").lower() in {"1", "true", "yes"},
        )
    except ValueError as exc:
        raise ConfigError(f"invalid gate setting in the environment: {exc}") from exc


def rows_key(evaluation: Mapping[str, Any]) -> str:
    """What identifies the rows an evaluation scored: their hash when recorded, else their count."""
    return str(evaluation.get("rows_hash") or f"n={int(evaluation['n'])}")


def _rows_label(evaluation: Mapping[str, Any]) -> str:
    hashed = evaluation.get("rows_hash")
    return f"n={int(evaluation['n'])}" + (f" (rows {str(hashed)[:12]})" if hashed else "")


def evaluate_gate(
    challenger: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
    baseline: Mapping[str, Any] | None,
    policy: GatePolicy,
    *,
    champion_decayed: bool = False,
    live: bool = False,
) -> GateDecision:
    """Decide whether the challenger may replace the champion (or become the first champion).

    `champion_decayed`: the champion's live error is past its threshold, so the challenger needs
    only `policy.decay_margin`. `live`: the evaluations are of matured live forecasts; a live
    verdict is final (no further shadow)."""
    kind = _check_evaluation(challenger, "challenger", None)
    if baseline is not None:
        _check_evaluation(baseline, "baseline", kind)
    checks: dict[str, Any] = {}
    reasons: list[str] = []
    cost = float(challenger["business_cost"])

    if policy.require_same_holdout:
        checks["same_holdout"], reason = _same_rows_check(challenger, champion, baseline)
        reasons.append(reason)
    checks["baseline"], reason = _baseline_check(cost, baseline)
    reasons.append(reason)

    if champion is None:
        checks["champion"] = None
        reasons.append("champion: none yet — only the baseline check applies")
    else:
        _check_evaluation(champion, "champion", kind)
        margin = policy.decay_margin if champion_decayed else policy.margin
        checks["margin"] = _margin_check(cost, float(champion["business_cost"]), margin)
        checks["margin"]["champion_decayed"] = champion_decayed
        reasons.append(
            checks["margin"].pop("reason")
            + (" — the champion's live error has decayed past its threshold" if champion_decayed else "")
        )
        checks["segments"] = _segment_check(challenger, champion, policy)
        reasons.append(checks["segments"].pop("reason"))

    passed = all(c["passed"] for c in checks.values() if c is not None)
    failed = {name for name, c in checks.items() if c is not None and not c["passed"]}
    # Only the forecaster's shadow forecasts mature into a live comparison. A margin loss alone sends
    # it there; once the champion has decayed, so do losses to the baseline or in a segment: the
    # holdout then scores the old regime's fit, while the deployed fit has learnt the newest journeys,
    # and only its live forecasts can tell (a surge: every holdout fit lost to the median).
    in_shadow_if = SHADOW_ON_LOSS_DECAYED if champion_decayed else SHADOW_ON_LOSS
    awaiting_live = not live and bool(failed) and failed <= in_shadow_if and kind == "forecaster"
    if awaiting_live:
        reasons.append("verdict: kept as a candidate, scored in shadow until its live forecasts can be compared")
    return GateDecision(
        passed=passed, reasons=reasons, checks=checks, auto_promote=policy.auto_promote, awaiting_live=awaiting_live
    )


def _same_rows_check(
    challenger: Mapping[str, Any], champion: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str]:
    """Whether the champion and the baseline were scored on the challenger's very rows (by hash)."""
    others = ({"baseline": baseline} if baseline is not None else {}) | (
        {"champion": champion} if champion is not None else {}
    )
    mine = rows_key(challenger)
    mismatched = {name: _rows_label(ev) for name, ev in others.items() if rows_key(ev) != mine}
    ok = not mismatched
    check = {"passed": ok, "challenger_n": int(challenger["n"]), "rows": mine, "mismatched": mismatched}
    reason = f"same rows: {'ok' if ok else 'FAILED'} — challenger {_rows_label(challenger)}" + (
        "" if ok else ", " + ", ".join(f"{k} {v}" for k, v in mismatched.items())
    )
    return check, reason


def _baseline_check(cost: float, baseline: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """Whether the challenger costs less than the naive baseline (None in a live comparison)."""
    if baseline is None:  # a live comparison: the baseline was beaten at retrain, on the holdout
        return None, "baseline: beaten on the holdout when it was trained"
    base_cost = float(baseline["business_cost"])
    ok = cost < base_cost
    reason = (
        f"baseline: {'ok' if ok else 'FAILED'} — challenger cost {cost:.4f} "
        f"{'<' if ok else '>='} baseline cost {base_cost:.4f}"
    )
    return {"passed": ok, "challenger_cost": cost, "baseline_cost": base_cost}, reason


def _margin_check(cost: float, champion_cost: float, margin: float) -> dict[str, Any]:
    required = champion_cost * (1.0 - margin)
    ok = cost <= required + _EPS * max(1.0, abs(required))
    improvement = (champion_cost - cost) / champion_cost if champion_cost else 0.0
    reason = (
        f"margin: {'ok' if ok else 'FAILED'} — challenger cost {cost:.4f} vs champion "
        f"{champion_cost:.4f} ({improvement:+.2%} cheaper; needs >= {margin:.2%}, i.e. cost <= {required:.4f})"
    )
    return {
        "passed": ok,
        "challenger_cost": cost,
        "champion_cost": champion_cost,
        "required_cost": required,
        "improvement": improvement,
        "margin": margin,
        "reason": reason,
    }


def _segment_check(challenger: Mapping[str, Any], champion: Mapping[str, Any], policy: GatePolicy) -> dict[str, Any]:
    regressions: list[dict[str, Any]] = []
    worst: dict[str, Any] | None = None
    compared = ignored = 0
    chall_segments = challenger.get("segments") or {}
    champ_segments = champion.get("segments") or {}
    for column in SEGMENT_COLUMNS:
        for value, chall in (chall_segments.get(column) or {}).items():
            champ = (champ_segments.get(column) or {}).get(value)
            n = int(chall["n"]) if champ is None else min(int(chall["n"]), int(champ["n"]))
            if champ is None or n < policy.min_segment_n:
                ignored += 1
                continue
            compared += 1
            new_cost, old_cost = float(chall["business_cost"]), float(champ["business_cost"])
            allowed = old_cost * (1.0 + policy.segment_tolerance)
            # A segment that cost nothing under the champion has no relative change: None, sorted worst.
            change = (new_cost - old_cost) / old_cost if old_cost else (0.0 if new_cost <= 0 else None)
            row = {
                "segment": column,
                "value": value,
                "n": n,
                "challenger_cost": new_cost,
                "champion_cost": old_cost,
                "change": change,
            }
            if new_cost > allowed + _EPS * max(1.0, abs(allowed)):
                regressions.append(row)
            if worst is None or _change_key(change) > _change_key(worst["change"]):
                worst = row
    ok = not regressions
    tol = f"{policy.segment_tolerance:.0%} tolerance"
    if regressions:
        detail = "; ".join(
            f"{r['segment']}={r['value']} {r['challenger_cost']:.4f} vs {r['champion_cost']:.4f} "
            f"({_fmt_change(r['change'])}, n={r['n']})"
            for r in regressions
        )
        head = f"segments: FAILED — {len(regressions)} segment(s) worse by more than {tol}: {detail}"
    elif worst is not None:
        head = (
            f"segments: ok — worst {worst['segment']}={worst['value']} {_fmt_change(worst['change'])} "
            f"(within {tol}, n={worst['n']})"
        )
    else:
        head = "segments: ok — no segment large enough to compare"
    reason = f"{head}; {compared} compared, {ignored} ignored (n < {policy.min_segment_n} or absent under the champion)"
    return {
        "passed": ok,
        "regressions": regressions,
        "worst": worst,
        "compared": compared,
        "ignored": ignored,
        "tolerance": policy.segment_tolerance,
        "min_segment_n": policy.min_segment_n,
        "reason": reason,
    }


def _change_key(change: float | None) -> float:
    return float("inf") if change is None else change


def _fmt_change(change: float | None) -> str:
    return "from zero" if change is None else f"{change:+.1%}"


def _check_evaluation(evaluation: Mapping[str, Any], role: str, kind: str | None) -> str:
    missing = [key for key in ("kind", "n", "business_cost") if key not in evaluation]
    if missing:
        raise GateInputError(f"the {role} evaluation lacks {', '.join(missing)}; re-run the evaluation")
    if kind is not None and evaluation["kind"] != kind:
        raise GateInputError(
            f"the {role} evaluation is for {evaluation['kind']!r}, the challenger for {kind!r}; "
            "compare models of the same kind"
        )
    return str(evaluation["kind"])
