"""The settings of the daily run: cost and triage assumptions, drift thresholds, retrain triggers,
interval calibration and the gate policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.domain import CostAssumptions
from core.monitor import alerts as monitor_alerts
from core.monitor import drift as monitor_drift
from core.registry.gate import GatePolicy
from core.scoring import calibration as intervals
from core.triage.ranking import TriageSettings

# Load and calendar columns get their thresholds from the reference's own day-to-day variation
# (drift.calibrate_thresholds, once per champion). The model's outputs also move with the closed loop
# itself, which the pre-go-live reference never saw: triage clears stalls, so stuck_prob shifts (it
# reached 0.26 against a 0.22 noise floor in a 30-day control run); they alert on a larger shift.
DRIFT_THRESHOLDS: dict[str, float] = {"stuck_prob": 0.4, "p50_h": 0.4}


@dataclass(frozen=True)
class DailySettings:
    """Assumptions and switches of the daily run."""

    costs: CostAssumptions = field(default_factory=CostAssumptions)
    triage: TriageSettings = field(default_factory=TriageSettings)
    monitor: monitor_drift.MonitorSettings = field(
        default_factory=lambda: monitor_drift.MonitorSettings(per_column_threshold=DRIFT_THRESHOLDS)
    )
    rules: Sequence[monitor_alerts.Rule] = monitor_alerts.DEFAULT_RULES
    retrain_every_days: int = 7  # days since the last retrain (the newest version, kept or not)
    retrain_on_alerts: bool = True  # a drift-share, accuracy or coverage alert starts a retrain
    retrain_cooldown_days: int = 3  # ... once this many days have passed since the last one
    calibration: intervals.CalibrationSettings = field(default_factory=intervals.CalibrationSettings)
    gate: GatePolicy | None = None  # None: the environment's policy (load_gate_policy)
    artifact_retention_days: int = 7  # rejected versions' artifacts are removed after this (rows stay)
    retrain_max_rows: int | None = None  # training rows (None: the factory's default)
    retrain_params: dict[str, Any] | None = None  # e.g. {"max_iter": 100} for both models
    notify: bool = True  # post new alerts to the webhook when one is configured
    # Keep Evidently's snapshot of the day's drift for its report (half of a small day's run; the
    # verdicts never wait for it). A backfill keeps it for its last days only (BACKFILL_REPORT_DAYS).
    drift_report: bool = True
    # Who gets the day's at-risk list by e-mail after it is drawn: None reads $JOURNEYOPS_LIST_MAIL_TO
    # (comma-separated); an empty tuple sends none (a backfill never mails).
    list_mail_to: tuple[str, ...] | None = None
