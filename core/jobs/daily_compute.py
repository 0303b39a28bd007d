"""What one day writes, computed from the store as it stands (read-only, nothing is written).

`compute_day` is a short sequence of named steps: score the open orders with the champion and the
challenger in shadow, draw the triage list with its holdout and the ETAs shown from the next
morning, monitor drift and validity, evaluate the alert rules, decide whether to retrain, and
summarise the day. `jobs.daily.write_day` then writes it all in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from core import domain, features, store
from core.config import StorePath
from core.domain import end_of_day
from core.jobs.daily_monitor import accuracy_inputs, benefit_inputs, monitor_day, step_alerts
from core.jobs.daily_retrain import retrain_reason
from core.jobs.daily_settings import DailySettings
from core.monitor import alerts as monitor_alerts
from core.monitor import drift as monitor_drift
from core.monitor import validity as monitor_validity
from core.scoring import batch, checked_files
from core.scoring import calibration as intervals
from core.triage import ranking


@dataclass
class DayOutput:
    """Everything one day writes, computed before the write transaction opens."""

    as_of_date: date
    as_of_at: datetime
    calibration: pd.DataFrame
    predictions: pd.DataFrame
    triage_list: pd.DataFrame
    actions: pd.DataFrame
    eta_rows: pd.DataFrame
    drift: monitor_drift.DriftResult | None
    validity: dict[str, Any]
    alerts: list[monitor_alerts.Alert]
    summary: dict[str, Any]


def _single_thread() -> Any:
    # Scoring batches of a few thousand rows: OpenMP threads cost more than they give, and on a
    # shared 2-core machine they oversubscribe (measured 10x slower predictions).
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def interval_corrections(
    version: str, as_of: date, as_of_at: datetime, settings: DailySettings, store_path: StorePath
) -> pd.DataFrame:
    """The corrections for one forecaster version from its own served forecasts of the window."""
    forecasts = store.fetch_df(
        "calibration_forecasts",
        {
            "version": version,
            "since": as_of - timedelta(days=settings.calibration.window_days - 1),
            "as_of": as_of_at,
            "delivered_stage": "delivered",
            "cancelled_stage": domain.CANCELLED,
        },
        store_path,
    )
    return intervals.estimate_corrections(forecasts, pd.Timestamp(as_of_at), settings.calibration)


def _calibration_table(parts: list[pd.DataFrame], as_of: date, settings: DailySettings, now: datetime) -> pd.DataFrame:
    columns = [
        "as_of_date",
        "forecaster_version",
        "segment",
        "value",
        "forecasts",
        "delivered",
        *intervals.CORRECTION_COLUMNS,
        *intervals.LEVEL_COLUMNS,
        "computed_at",
    ]
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True).drop_duplicates(["forecaster_version", "value"])
    return table.assign(as_of_date=as_of, computed_at=now)[columns]


@dataclass
class ScoredOrders:
    """The open orders at the end of the day, scored by every serving role."""

    open_orders: pd.DataFrame
    predictions: list[pd.DataFrame]
    calibration_rows: list[pd.DataFrame]
    champion_scores: pd.DataFrame | None


# The engine seam of the day: features of the open orders and their scores by every serving role
# (serving, as_of, as_of_at, now, settings, store path, failures). The DuckDB daily's is
# `score_open_orders`; the Spark daily's computes both on Spark (`jobs.daily_spark`).
Scorer = Callable[
    [dict[str, batch.ServingModels], date, datetime, datetime, DailySettings, StorePath, list[dict[str, str]]],
    ScoredOrders,
]


def compute_day(
    as_of: date,
    store_path: StorePath = None,
    *,
    settings: DailySettings | None = None,
    simulate_triage: bool = False,
    day_files: Sequence[Path] = (),
    scorer: Scorer | None = None,
) -> DayOutput:
    """Everything the day writes, from the store as it stands (read-only; nothing is written); the
    open orders are featured and scored by `scorer` (default: on the store, `score_open_orders`)."""
    with _single_thread():
        return _compute_day(
            as_of, store_path, settings or DailySettings(), simulate_triage, day_files, scorer or score_open_orders
        )


@dataclass
class DrawnList:
    """The would-be triage list (with its holdout), the simulated team's actions and the ETAs shown."""

    listed: pd.DataFrame
    actions: pd.DataFrame
    eta_rows: pd.DataFrame
    eta_quantile: float | None


def _compute_day(
    as_of: date,
    store_path: StorePath,
    settings: DailySettings,
    simulate_triage: bool,
    day_files: Sequence[Path],
    scorer: Scorer,
) -> DayOutput:
    as_of_at = end_of_day(as_of)
    now = store.utcnow()
    # Steps that fail without stopping the day (a damaged shadow model, a drift reference that fails
    # its checksum): the champion still serves; each is recorded in the figures and raises an alert.
    failures: list[dict[str, str]] = []
    serving = batch.load_serving(as_of, store_path, failures)
    champion = serving.get("champion")
    scored = scorer(serving, as_of, as_of_at, now, settings, store_path, failures)
    drawn = draw_list(champion, scored, as_of, as_of_at, now, settings, simulate_triage, store_path)
    drift, drift_figures = monitor_day(champion, scored.open_orders, scored.champion_scores, settings, store_path)
    if "drift_failed" in drift_figures:
        failures.append({"step": "drift", "subject": "reference sample", "error": drift_figures["drift_failed"]})
    if "drift_report_failed" in drift_figures:
        failures.append(
            {"step": "drift report", "subject": "Evidently report", "error": drift_figures["drift_report_failed"]}
        )
    validity = monitor_validity.read_batch_validity(store_path, sources=[p.name for p in day_files])
    rule_inputs = _rule_inputs(champion, drift, validity, as_of, as_of_at, store_path)
    day_alerts = monitor_alerts.evaluate_rules(rule_inputs, settings.rules)
    day_alerts += step_alerts(failures, as_of, settings.rules)
    drift_figures = {**drift_figures, "step_failures": failures} if failures else drift_figures
    reason = retrain_reason(day_alerts, champion, as_of, settings, store_path)
    summary = _summary(
        serving,
        scored,
        drawn,
        drift,
        drift_figures,
        validity,
        day_alerts,
        reason,
        as_of,
        as_of_at,
        now,
    )
    return DayOutput(
        as_of_date=as_of,
        as_of_at=as_of_at,
        calibration=_calibration_table(scored.calibration_rows, as_of, settings, now),
        predictions=pd.concat(scored.predictions, ignore_index=True) if scored.predictions else pd.DataFrame(),
        triage_list=drawn.listed,
        actions=drawn.actions,
        eta_rows=drawn.eta_rows,
        drift=drift,
        validity=validity,
        alerts=day_alerts,
        summary=summary,
    )


def score_open_orders(
    serving: dict[str, batch.ServingModels],
    as_of: date,
    as_of_at: datetime,
    now: datetime,
    settings: DailySettings,
    store_path: StorePath,
    failures: list[dict[str, str]],
) -> ScoredOrders:
    """Score the open orders with every serving role, each with its own interval corrections; a
    challenger that fails to score is left out and reported in `failures`."""
    scored = ScoredOrders(open_orders=pd.DataFrame(), predictions=[], calibration_rows=[], champion_scores=None)
    if serving.get("champion") is None:
        return scored
    open_orders = features.build_prefix_features(store_path, mode="single", as_of=as_of_at, with_targets=False)
    # The features come in order id order already; sorting 1M wide rows again copies them all.
    if not open_orders["order_id"].is_monotonic_increasing:
        open_orders = open_orders.sort_values("order_id", kind="stable")
    scored.open_orders = open_orders.reset_index(drop=True)
    for role, models in serving.items():
        try:
            raw_scores = batch.score_frame(scored.open_orders, models)
        except Exception as exc:
            if role == "champion":
                raise
            subject = f"{models.forecaster_version} / {models.classifier_version}"
            failures.append({"step": "shadow", "subject": subject, "error": f"{type(exc).__name__}: {exc}"})
            continue
        corrections = interval_corrections(models.forecaster_version, as_of, as_of_at, settings, store_path)
        scored.calibration_rows.append(corrections.assign(forecaster_version=models.forecaster_version))
        within = settings.calibration.within
        role_scores = intervals.apply_corrections(
            raw_scores,
            scored.open_orders[settings.calibration.segment],
            corrections,
            within=scored.open_orders[list(within)],
        )
        scored.predictions.append(
            batch.prediction_rows(scored.open_orders, role_scores, models, as_of, as_of_at, now, raw_scores=raw_scores)
        )
        if role == "champion":
            scored.champion_scores = role_scores
    return scored


def draw_list(
    champion: batch.ServingModels | None,
    scored: ScoredOrders,
    as_of: date,
    as_of_at: datetime,
    now: datetime,
    settings: DailySettings,
    simulate_triage: bool,
    store_path: StorePath,
) -> DrawnList:
    """The triage list with its reasons and ETA bands, the simulated actions on it, and the ETAs shown."""
    drawn = DrawnList(
        listed=pd.DataFrame(),
        actions=pd.DataFrame(),
        eta_rows=pd.DataFrame(columns=["order_id", "shown_from", "eta_at", "version"]),
        eta_quantile=None,
    )
    champion_scores, open_orders = scored.champion_scores, scored.open_orders
    if champion is None or champion_scores is None or not len(open_orders):
        return drawn
    # Only the rows that can make the list are joined with their scores (not a copy of every open order).
    candidates = ranking.shortlist(open_orders, champion_scores, settings.costs, settings.triage)
    listed = ranking.build_triage_list(candidates, settings.costs, settings.triage)
    try:
        reference = batch.load_reference(champion, as_of_at, store_path)
        categorical, numeric = batch.model_inputs(champion.classifier)
        typical = batch.typical_values(reference, categorical, numeric)
        reasons = batch.explain_stuck(champion.classifier, listed, typical)
    except checked_files.CheckedFileError:
        reasons = [[] for _ in range(len(listed))]  # no reasons today; the drift step reports the file
    listed["reasons"] = [json.dumps(r) for r in reasons]
    for p in ("p10", "p50", "p90"):
        listed[f"eta_{p}_at"] = pd.Timestamp(as_of_at) + pd.to_timedelta(listed[f"{p}_h"], unit="h")
    listed["as_of_date"] = as_of
    listed["created_at"] = now
    drawn.listed = listed
    if simulate_triage:
        drawn.actions = ranking.simulated_actions(listed, as_of, as_of_at, settings.triage)
    drawn.eta_quantile = q = batch.eta_quantile(settings.costs)
    drawn.eta_rows = pd.DataFrame(
        {
            "order_id": open_orders["order_id"].to_numpy(),
            "shown_from": as_of + timedelta(days=1),
            "eta_at": pd.Timestamp(as_of_at) + pd.to_timedelta(batch.quantile_hours(champion_scores, q), unit="h"),
            "version": champion.forecaster_version,
        }
    )
    return drawn


def _rule_inputs(
    champion: batch.ServingModels | None,
    drift: monitor_drift.DriftResult | None,
    validity: dict[str, Any],
    as_of: date,
    as_of_at: datetime,
    store_path: StorePath,
) -> dict[str, Any]:
    """What the alert rules read: validity, feed freshness, failed job runs, drift, the champion's live accuracy
    and the last complete live week's benefit against its targets."""
    feed = store.fetch_df("daily_feed_state", {"as_of_at": as_of_at}, store_path)
    last_event_at = feed.loc[0, "last_event_at"] if len(feed) else None
    results: dict[str, Any] = {
        "as_of": as_of,
        "validity": validity,
        "feed": {
            "last_event_at": None if pd.isna(last_event_at) else pd.Timestamp(last_event_at).to_pydatetime(),
            "as_of_at": as_of_at,
        },
        "jobs": store.fetch_df("daily_failed_jobs", {"as_of_date": as_of}, store_path).to_dict("records"),
    }
    if drift is not None:
        results["drift"] = drift
    results.update(accuracy_inputs(champion, as_of, as_of_at, store_path))
    results.update(benefit_inputs(as_of_at, store_path))
    return results


def _summary(
    serving: dict[str, batch.ServingModels],
    scored: ScoredOrders,
    drawn: DrawnList,
    drift: monitor_drift.DriftResult | None,
    drift_figures: dict[str, Any],
    validity: dict[str, Any],
    day_alerts: list[monitor_alerts.Alert],
    retrain_reason: str | None,
    as_of: date,
    as_of_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The day's summary row: the versions that served, the counts, and why it retrains."""
    champion, challenger = serving.get("champion"), serving.get("challenger")
    listed = drawn.listed
    # What this run loaded is the run's record (job_runs), not the day's: a re-run loads nothing new.
    figures = {
        **drift_figures,
        "validity_rows": validity["rows_total"],
        "quarantined_rows": validity["rows_quarantined"],
        "alert_rules": sorted({a.rule for a in day_alerts}),
        "shown": int((~listed["held_out"]).sum()) if len(listed) else 0,
    }
    return {
        "as_of_date": as_of,
        "as_of_at": as_of_at,
        "forecaster_version": champion.forecaster_version if champion else None,
        "classifier_version": champion.classifier_version if champion else None,
        "challenger_forecaster_version": challenger.forecaster_version if challenger else None,
        "challenger_classifier_version": challenger.classifier_version if challenger else None,
        "eta_source": "model" if champion is not None else "static",
        "eta_quantile": drawn.eta_quantile,
        "open_orders": len(scored.open_orders),
        "listed": len(listed),
        "held_out": int(listed["held_out"].sum()) if len(listed) else 0,
        "sim_actions": len(drawn.actions),
        "drift_share": drift.drift_share if drift is not None else None,
        "alerts": len(day_alerts),
        "retrain_reason": retrain_reason,
        "figures": json.dumps(figures, default=str, sort_keys=True),
        "computed_at": now,
    }
