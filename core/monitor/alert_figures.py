"""The alert rules over figures of the day (`alerts` holds the rules as data and the drift rules):
failed job runs, accuracy and coverage decay, and realised benefit under its target."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.monitor.alert_types import Alert, Rule
from core.monitor.alert_types import pct as _pct


def job_failed(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    """One alert per job kind whose latest run failed (`results['jobs']`)."""
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            str(job["kind"]),
            f"the {job['kind']} job (run {job.get('run_id', '?')}) failed: {job.get('error') or 'no error recorded'}",
        )
        for job in results.get("jobs") or []
        if job.get("status") == "failed"
    ]


def accuracy_decay(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    """An alert when live MAE is above the reference MAE by more than the threshold."""
    figures = results.get("accuracy")
    if not figures or rule.threshold is None or not figures.get("reference_mae_days"):
        return []
    mae, reference = float(figures["mae_days"]), float(figures["reference_mae_days"])
    decay = mae / reference - 1
    if decay <= rule.threshold:
        return []
    subject = str(figures.get("subject", "forecast"))
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            subject,
            f"{subject} MAE on matured forecasts is {mae:.2f} days, {_pct(decay)} above the reference "
            f"{reference:.2f} days (threshold {_pct(rule.threshold)})",
            decay,
            rule.threshold,
        )
    ]


def coverage_decay(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    """An alert when interval coverage is short of nominal by more than the threshold."""
    figures = results.get("coverage")
    if not figures or rule.threshold is None:
        return []
    coverage, nominal = float(figures["coverage"]), float(figures["nominal"])
    gap = nominal - coverage
    if gap <= rule.threshold:
        return []
    subject = str(figures.get("subject", "forecast interval"))
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            subject,
            f"{subject} covered {_pct(coverage)} of actuals against a nominal {_pct(nominal)}: "
            f"{100 * gap:.1f} points short (threshold {100 * rule.threshold:.1f} points)",
            gap,
            rule.threshold,
        )
    ]


def benefit_under_target(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    """One alert per benefit figure realised below the threshold share of its target."""
    given = results.get("benefit")
    if not given or rule.threshold is None:
        return []
    found = []
    for figures in [given] if isinstance(given, Mapping) else given:
        if not figures.get("target") or figures.get("realised") is None:
            continue
        realised, target = float(figures["realised"]), float(figures["target"])
        ratio = realised / target
        if ratio >= rule.threshold:
            continue
        subject, unit = str(figures.get("subject", "benefit")), str(figures.get("unit", ""))
        amount = f"{realised:,.0f}{' ' + unit if unit else ''}"
        goal = f"{target:,.0f}{' ' + unit if unit else ''}"
        when = f" in {figures['period']}" if figures.get("period") else ""
        found.append(
            Alert(
                as_of,
                rule.name,
                rule.severity,
                subject,
                f"{subject} realised {amount}{when} against a target of {goal} ({_pct(ratio)}), "
                f"below the {_pct(rule.threshold)} threshold",
                ratio,
                rule.threshold,
            )
        )
    return found
