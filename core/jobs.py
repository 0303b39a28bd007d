"""Job orchestration: every run is recorded, and one job of a kind runs at a time.

The lock is a `running` row in `job_runs`, claimed in one transaction (DuckDB's single writer makes
the claim atomic across processes). A run whose process died is found by its pid on this host and
marked `abandoned`, so a killed job never blocks the next one.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from core import store
from core.errors import JourneyOpsError
from core.gate import GatePolicy, evaluate_gate, load_gate_policy

if TYPE_CHECKING:  # the models import scikit-learn; jobs is imported by light commands too
    from core.models.training import Kind


class JobAlreadyRunningError(JourneyOpsError):
    """Another run of the same kind holds the lock."""

    exit_code = 75


@dataclass
class JobRun:
    """A run in progress; `figures` are stored with it when it ends."""

    run_id: str
    kind: str
    figures: dict[str, Any] = field(default_factory=dict)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lease_hours() -> float:
    return float(os.environ.get("JOURNEYOPS_JOB_LEASE_H", "6"))


def _claim(kind: str, params: Mapping[str, Any], store_path: str | os.PathLike[str] | None) -> JobRun:
    host = socket.gethostname()
    with store.transaction(store_path) as con:
        running = con.execute(store.load_sql("jobs_running"), {"kind": kind}).df()
        now = store.utcnow()
        for row in running.itertuples():
            # A dead process on this host, or a run older than the lease on any host (a killed pod
            # elsewhere leaves a row we cannot check by pid), no longer holds the lock.
            dead_here = row.host == host and not _process_alive(int(row.pid))
            expired = (now - row.started_at).total_seconds() > _lease_hours() * 3600
            if dead_here or expired:
                why = "the process ended without finishing" if dead_here else (
                    f"no end recorded within the {_lease_hours():g} h lease"
                )
                con.execute(store.load_sql("jobs_abandon"), {"at": now, "run_id": row.run_id, "why": why})
                continue
            raise JobAlreadyRunningError(
                f"a {kind} job is already running (run {row.run_id}, pid {row.pid} on {row.host}, "
                f"started {row.started_at:%Y-%m-%d %H:%M} UTC); wait for it to finish"
            )
        run = JobRun(run_id=uuid.uuid4().hex[:12], kind=kind)
        con.execute(
            store.load_sql("jobs_start"),
            {
                "run_id": run.run_id,
                "kind": kind,
                "params": json.dumps(dict(params), default=str),
                "pid": os.getpid(),
                "host": host,
                "at": store.utcnow(),
            },
        )
    return run


def _finish(run: JobRun, status: str, error: str | None, store_path: str | os.PathLike[str] | None) -> None:
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("jobs_finish"),
            {
                "status": status,
                "at": store.utcnow(),
                "error": error,
                "figures": json.dumps(run.figures, default=str),
                "run_id": run.run_id,
            },
        )


@contextmanager
def job_run(
    kind: str, params: Mapping[str, Any] | None = None, store_path: str | os.PathLike[str] | None = None
) -> Iterator[JobRun]:
    """Claim the lock of `kind`, record the run, and record how it ended (succeeded or failed)."""
    run = _claim(kind, params or {}, store_path)
    try:
        yield run
    except BaseException as exc:
        _finish(run, "failed", f"{type(exc).__name__}: {exc}"[:2000], store_path)
        raise
    _finish(run, "succeeded", None, store_path)


def recent_runs(
    kind: str | None = None, limit: int = 50, store_path: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """The latest job runs, newest first, with their duration in seconds."""
    return store.fetch_df("jobs_recent", {"kind": kind, "limit": limit}, store_path)


KINDS: tuple[Kind, ...] = ("forecaster", "stuck_classifier")


def retrain(
    store_path: str | os.PathLike[str] | None = None,
    *,
    as_of: datetime | None = None,
    actor: str = "retrain",
    policy: GatePolicy | None = None,
    max_rows: int | None = None,
    model_params: dict[str, Any] | None = None,
    champion_decayed: bool = False,
) -> dict[str, Any]:
    """Train both challengers, score them and the champions on the same holdout rows, gate, register.

    The gate judges the backtest fit (trained before the holdout); the version that is registered and
    would serve is the deployed fit on every journey known at `as_of` (`models.fit_deployed`). The
    champion is judged only on holdout rows newer than its own training data, so it is never scored
    on rows it learned from. A passed gate promotes at once when auto-promotion is on; otherwise the
    version awaits approval; one that lost on the margin alone stays a candidate in shadow.
    `champion_decayed` (the daily run saw its live error past the threshold) lowers the margin to
    the policy's `decay_margin`. `max_rows` and `model_params` bound the work.
    """
    from core import assumptions, models, registry
    from core.models.training import DEFAULT_MAX_ROWS

    policy = policy or load_gate_policy()
    costs = assumptions.load_assumptions(store_path, at=as_of)
    params = {"as_of": as_of, "actor": actor, "max_rows": max_rows, "champion_decayed": champion_decayed}
    with job_run("retrain", params, store_path) as run:
        report_progress(run, 0.05, "building training prefixes and fitting both models", store_path)
        trained = models.train_candidates(
            store_path, as_of, max_rows=max_rows or DEFAULT_MAX_ROWS, costs=costs,
            forecaster_params=model_params, classifier_params=model_params, deploy=True,
        )
        served = {"forecaster": trained.deployed_forecaster, "stuck_classifier": trained.deployed_classifier}
        evaluated = {"forecaster": trained.forecaster, "stuck_classifier": trained.classifier}
        baselines = {"forecaster": trained.baseline_forecaster, "stuck_classifier": trained.baseline_classifier}
        window = list(trained.deployed_window or trained.train_window)
        outcome: dict[str, Any] = {"train_window": window, "evaluated_window": list(trained.train_window),
                                   "versions": {}}
        for step, kind in enumerate(KINDS):
            report_progress(run, 0.7 + 0.15 * step, f"gating and registering the {kind}", store_path)
            champion_eval, champion_id = None, None
            holdout = trained.holdout
            if registry.get_champion(kind, store_path) is not None:
                champion, champion_model = registry.load_champion(kind, store_path)
                champion_id = champion.version_id
                holdout = unseen_rows(trained.holdout, champion.training_window)
                champion_eval = models.evaluate_model(kind, champion_model, holdout, costs)
            challenger_eval = models.evaluate_model(kind, evaluated[kind], holdout, costs)
            baseline_eval = models.evaluate_model(kind, baselines[kind], holdout, costs)
            decision = evaluate_gate(challenger_eval, champion_eval, baseline_eval, policy,
                                     champion_decayed=champion_decayed)
            version = registry.register_and_gate(
                kind, served[kind], training_window=window,
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
        run.figures.update({kind: outcome["versions"][kind]["status"] for kind in KINDS})
        outcome["run_id"] = run.run_id
    return outcome


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


def report_progress(
    run: JobRun, fraction: float, message: str, store_path: str | os.PathLike[str] | None = None
) -> None:
    """Record how far a running job is (0..1) and what it is doing, for a page polling its row."""
    clamped = min(max(float(fraction), 0.0), 1.0)
    # Kept in figures so no schema change is needed; the run's own figures replace it when it ends.
    figures = {**run.figures, "progress": clamped, "progress_message": message}
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("operations_report_progress"),
            {"figures": json.dumps(figures, default=str), "run_id": run.run_id},
        )
