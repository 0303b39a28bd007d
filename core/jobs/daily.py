"""The daily cycle (DESIGN §3): ingest, reconcile, score, list, monitor, alert, maybe retrain.

`run_daily(D)` works on what was known at the end of day D (the instant `as_of_at` = D + 1 day,
00:00 UTC): it ingests the landing files of D (or the files a day feed, the simulated world of the
closed loop, produces for D first), scores
every open order with the champion and the challenger in shadow, draws the would-be triage list with
its holdout, decides the ETA customers see from the next morning, and monitors the batch.

Idempotent and atomic: everything is computed first, then the whole day is written in ONE
transaction that deletes that day's rows and inserts the new ones. A re-run gives the same rows
(scored with the same model versions as the first run); a run killed at any point leaves the
previous state (ingest is idempotent per file and runs before, in its own transactions). One daily
job runs at a time (the `job_runs` lock) and every run is recorded with its figures.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from core import config, domain, features, logs, store
from core.config import StorePath
from core.domain import CostAssumptions, end_of_day
from core.errors import ConfigError
from core.ingest import landing
from core.jobs import retraining, runs
from core.monitor import accuracy, assumptions, shadow
from core.monitor import alerts as monitor_alerts
from core.monitor import drift as monitor_drift
from core.monitor import validity as monitor_validity
from core.registry import promotion
from core.registry import versions as registry
from core.registry.gate import GatePolicy, evaluate_gate, load_gate_policy
from core.scoring import batch
from core.scoring import calibration as intervals
from core.triage import ranking
from core.triage.ranking import TriageSettings

# Columns that describe the instant rather than the order (constant within one batch): comparing a
# day's single value with a week of them is not a distribution test, so drift leaves them out.
CALENDAR_COLUMNS: tuple[str, ...] = ("as_of_weekday", "as_of_hour", "as_of_day_of_year")
# Counts of each stage visited restate the path that current_stage, prefix_len and exceptions_so_far
# already watch; leaving them out keeps Evidently's cost (per column) within the daily budget.
SKIPPED_PREFIXES: tuple[str, ...] = (features.ACTIVITY_PREFIX,)
# Load and calendar columns get their thresholds from the reference's own day-to-day variation
# (drift.calibrate_thresholds, once per champion). The model's outputs also move with the closed loop
# itself, which the pre-go-live reference never saw: triage clears stalls, so stuck_prob shifts (it
# reached 0.26 against a 0.22 noise floor in a 30-day control run); they alert on a larger shift.
DRIFT_THRESHOLDS: dict[str, float] = {"stuck_prob": 0.4, "p50_h": 0.4}
PREDICTION_COLUMNS: tuple[str, ...] = ("p50_h", "stuck_prob")
# Alerts that start a retrain: the world moved (a new category such as a new carrier, many drifted
# features) or the champion's live accuracy decayed.
RETRAIN_RULES: tuple[str, ...] = ("drift_share", "new_category", "accuracy_decay", "coverage_decay")
# Where a day's data comes from when it is produced for the run: the day -> the files it landed.
DayFeed = Callable[[date], list[Path]]


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


def _day_files(landing_dir: Path | None, as_of: date) -> list[Path]:
    if landing_dir is None or not landing_dir.is_dir():
        return []
    return sorted(p for p in landing_dir.iterdir() if p.is_file() and as_of.isoformat() in p.name)


def _ingest(
    as_of: date, store_path: StorePath, landing_dir: Path | None, day_files: Sequence[Path]
) -> dict[str, Any]:
    """Load what landed through the as-of day; files of later days wait for their own run."""
    paths: list[Path] = list(day_files) or ([landing_dir] if landing_dir is not None and landing_dir.is_dir() else [])
    if not paths:
        return {"files_loaded": 0, "files_already_loaded": 0, "files_rejected": 0, "rows_quarantined": 0}
    summary = landing.ingest_paths(
        paths, store_path=store_path, now=end_of_day(as_of), raise_on_reject=False, through=as_of
    )
    return {k: summary[k] for k in ("files_loaded", "files_already_loaded", "files_rejected", "rows_quarantined")}


def _drift_columns(champion: batch.ServingModels, reference: pd.DataFrame, open_orders: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(features, categorical) compared for drift: the classifier's inputs present on both sides,
    without calendar columns and columns constant within each reference instant (they describe the day)."""
    categorical, numeric = batch.model_inputs(champion.classifier)
    present = [c for c in categorical + numeric if c in reference.columns and c in open_orders.columns]
    per_instant = reference.groupby("as_of_at")[present].nunique(dropna=False).max() if len(reference) else None
    instant_level = set() if per_instant is None else set(per_instant.index[per_instant <= 1])
    compared = [
        c for c in present
        if c not in CALENDAR_COLUMNS and c not in instant_level and not c.startswith(SKIPPED_PREFIXES)
    ]
    return compared, [c for c in compared if c in categorical]


def _monitor(
    champion: batch.ServingModels | None,
    open_orders: pd.DataFrame,
    scores: pd.DataFrame | None,
    settings: DailySettings,
    store_path: StorePath,
) -> tuple[monitor_drift.DriftResult | None, dict[str, Any]]:
    if champion is None or open_orders.empty or scores is None:
        return None, {}
    reference = batch.load_reference(champion, pd.Timestamp(open_orders["as_of_at"].iloc[0]), store_path)
    if reference.empty:
        return None, {"drift_skipped": "empty reference sample"}
    compared, categorical = _drift_columns(champion, reference, open_orders)
    calibrated = batch.load_calibration(champion, reference, compared, PREDICTION_COLUMNS, categorical,
                                          settings.monitor, store_path)
    # Only the compared columns: the drift never reads the others, and a join copies every column.
    current = pd.concat([open_orders[compared], scores[list(PREDICTION_COLUMNS)]], axis=1)
    result = monitor_drift.compute_drift(
        reference, current, compared, PREDICTION_COLUMNS, categorical=categorical, settings=settings.monitor,
        calibrated=calibrated,
    )
    return result, {"drift_columns": len(compared), "reference_rows": len(reference)}


def _single_thread() -> Any:
    # Scoring batches of a few thousand rows: OpenMP threads cost more than they give, and on a
    # shared 2-core machine they oversubscribe (measured 10x slower predictions).
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


ACCURACY_WINDOW_DAYS = 14
MIN_MATURED_FORECASTS = 50
# Right after go-live the matured forecasts are the short journeys only (a biased sample: coverage read
# 0.59 on the second day of the demo); decay is judged once the champion has served this long.
MIN_SERVED_DAYS = 10


def _accuracy_inputs(
    champion: batch.ServingModels | None, as_of: date, as_of_at: datetime, store_path: StorePath
) -> dict[str, Any]:
    """The accuracy and coverage inputs of the decay rules: matured champion forecasts of the last
    two weeks (the accuracy module) against the champion's own holdout MAE from the registry."""

    if champion is None:
        return {}
    served = store.fetch_df("scoring_served_days", {"version": champion.forecaster_version, "as_of_date": as_of},
                            store_path)
    if int(served["days"].iloc[0]) < MIN_SERVED_DAYS:
        return {}
    overview = accuracy.accuracy_overview(store_path, as_of=as_of_at,
                                          since=as_of - timedelta(days=ACCURACY_WINDOW_DAYS))
    forecast = overview["forecast"]
    realised = forecast.get("realised") if isinstance(forecast, dict) else None
    if not realised or (realised.get("forecasts") or 0) < MIN_MATURED_FORECASTS:
        return {}
    subject = champion.forecaster_version
    inputs: dict[str, Any] = {
        "coverage": {"coverage": realised["coverage_80_pct"] / 100.0, "nominal": 0.8, "subject": subject},
    }
    reference_mae = registry.get_version(champion.forecaster_version, store_path).metrics.get("mae_days")
    if reference_mae:
        inputs["accuracy"] = {"mae_days": realised["mae_h"] / 24.0, "reference_mae_days": float(reference_mae),
                              "subject": subject}
    return inputs


def _retrain_reason(
    alerts: Sequence[monitor_alerts.Alert], champion: batch.ServingModels | None, as_of: date,
    settings: DailySettings, store_path: StorePath,
) -> str | None:
    """Why today's run retrains, if it does: `retrain_every_days` since the last attempt (the newest
    version, whatever became of it), or a drift/decay alert once `retrain_cooldown_days` have passed
    since that attempt (a trigger that holds for weeks must not retrain every day)."""
    if champion is None:
        return None
    newest = registry.list_versions("forecaster", store_path)[-1]
    known = (newest.backtest or {}).get("as_of") or (newest.training_window or [None])[-1]
    # The day whose end it was trained at (its as-of instant is that day's end, i.e. the next midnight).
    trained_day = (pd.Timestamp(known) - pd.Timedelta(microseconds=1)).date() if known else None
    days_since = (as_of - trained_day).days if trained_day else settings.retrain_every_days
    in_shadow = newest.status == "candidate"
    fired = sorted({a.rule for a in alerts if a.rule in RETRAIN_RULES}) if settings.retrain_on_alerts else []
    # A candidate in shadow awaits its live verdict (`live_gate`): the schedule leaves it alone, and a
    # trigger replaces it only once it is a full cycle old (it may predate the change that fired).
    cooldown = settings.retrain_every_days if in_shadow else settings.retrain_cooldown_days
    if fired and days_since >= cooldown:
        return "alert: " + ", ".join(fired)
    if not in_shadow and settings.retrain_every_days > 0 and days_since >= settings.retrain_every_days:
        return f"schedule: {days_since} days since the last retrain (every {settings.retrain_every_days})"
    return None


def _interval_corrections(
    version: str, as_of: date, as_of_at: datetime, settings: DailySettings, store_path: StorePath
) -> pd.DataFrame:
    """The corrections for one forecaster version from its own served forecasts of the window."""
    forecasts = store.fetch_df("calibration_forecasts", {
        "version": version, "since": as_of - timedelta(days=settings.calibration.window_days - 1),
        "as_of": as_of_at, "delivered_stage": "delivered", "cancelled_stage": domain.CANCELLED,
    }, store_path)
    return intervals.estimate_corrections(forecasts, pd.Timestamp(as_of_at), settings.calibration)


def _calibration_table(parts: list[pd.DataFrame], as_of: date, settings: DailySettings, now: datetime) -> pd.DataFrame:
    columns = ["as_of_date", "forecaster_version", "segment", "value", "forecasts", "delivered",
               *intervals.CORRECTION_COLUMNS, "computed_at"]
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True).drop_duplicates(["forecaster_version", "value"])
    return table.assign(as_of_date=as_of, segment=settings.calibration.segment, computed_at=now)[columns]


def compute_day(
    as_of: date,
    store_path: StorePath = None,
    *,
    settings: DailySettings | None = None,
    simulate_triage: bool = False,
    day_files: Sequence[Path] = (),
) -> DayOutput:
    """Everything the day writes, from the store as it stands (read-only; nothing is written)."""
    with _single_thread():
        return _compute_day(as_of, store_path, settings or DailySettings(), simulate_triage, day_files)


def _compute_day(
    as_of: date,
    store_path: StorePath,
    settings: DailySettings,
    simulate_triage: bool,
    day_files: Sequence[Path],
) -> DayOutput:
    as_of_at = end_of_day(as_of)
    now = store.utcnow()
    serving = batch.load_serving(as_of, store_path)
    champion = serving.get("champion")
    predictions: list[pd.DataFrame] = []
    listed = pd.DataFrame()
    actions = pd.DataFrame()
    eta_rows = pd.DataFrame(columns=["order_id", "shown_from", "eta_at", "version"])
    open_orders = pd.DataFrame()
    calibration_rows: list[pd.DataFrame] = []
    champion_scores: pd.DataFrame | None = None
    q = None
    if champion is not None:
        open_orders = features.build_prefix_features(store_path, mode="single", as_of=as_of_at, with_targets=False)
        # The features come in order id order already; sorting 1M wide rows again copies them all.
        if not open_orders["order_id"].is_monotonic_increasing:
            open_orders = open_orders.sort_values("order_id", kind="stable")
        open_orders = open_orders.reset_index(drop=True)
        for role, models in serving.items():
            raw_scores = batch.score_frame(open_orders, models)
            corrections = _interval_corrections(models.forecaster_version, as_of, as_of_at, settings, store_path)
            calibration_rows.append(corrections.assign(forecaster_version=models.forecaster_version))
            role_scores = intervals.apply_corrections(raw_scores, open_orders[settings.calibration.segment],
                                                        corrections)
            predictions.append(batch.prediction_rows(open_orders, role_scores, models, as_of, as_of_at, now,
                                                       raw_scores=raw_scores))
            if role == "champion":
                champion_scores = role_scores
    if champion is not None and champion_scores is not None and len(open_orders):
        # Only the rows that can make the list are joined with their scores (not a copy of every open order).
        candidates = ranking.shortlist(open_orders, champion_scores, settings.costs, settings.triage)
        listed = ranking.build_triage_list(candidates, settings.costs, settings.triage)
        reference = batch.load_reference(champion, as_of_at, store_path)
        categorical, numeric = batch.model_inputs(champion.classifier)
        typical = batch.typical_values(reference, categorical, numeric)
        reasons = batch.explain_stuck(champion.classifier, listed, typical)
        listed["reasons"] = [json.dumps(r) for r in reasons]
        for p in ("p10", "p50", "p90"):
            listed[f"eta_{p}_at"] = pd.Timestamp(as_of_at) + pd.to_timedelta(listed[f"{p}_h"], unit="h")
        listed["as_of_date"] = as_of
        listed["created_at"] = now
        if simulate_triage:
            actions = ranking.simulated_actions(listed, as_of, as_of_at, settings.triage)
        q = batch.eta_quantile(settings.costs)
        eta_rows = pd.DataFrame({
            "order_id": open_orders["order_id"].to_numpy(),
            "shown_from": as_of + timedelta(days=1),
            "eta_at": pd.Timestamp(as_of_at) + pd.to_timedelta(batch.quantile_hours(champion_scores, q), unit="h"),
            "version": champion.forecaster_version,
        })
    drift, drift_figures = _monitor(champion, open_orders, champion_scores, settings, store_path)
    validity = monitor_validity.read_batch_validity(store_path, sources=[p.name for p in day_files])
    feed = store.fetch_df("daily_feed_state", {"as_of_at": as_of_at}, store_path)
    last_event_at = feed.loc[0, "last_event_at"] if len(feed) else None
    results: dict[str, Any] = {
        "as_of": as_of,
        "validity": validity,
        "feed": {"last_event_at": None if pd.isna(last_event_at) else pd.Timestamp(last_event_at).to_pydatetime(),
                 "as_of_at": as_of_at},
    }
    if drift is not None:
        results["drift"] = drift
    results.update(_accuracy_inputs(champion, as_of, as_of_at, store_path))
    day_alerts = monitor_alerts.evaluate_rules(results, settings.rules)
    retrain_reason = _retrain_reason(day_alerts, champion, as_of, settings, store_path)
    challenger = serving.get("challenger")
    # What this run loaded is the run's record (job_runs), not the day's: a re-run loads nothing new.
    figures = {
        **drift_figures,
        "validity_rows": validity["rows_total"],
        "quarantined_rows": validity["rows_quarantined"],
        "alert_rules": sorted({a.rule for a in day_alerts}),
        "shown": int((~listed["held_out"]).sum()) if len(listed) else 0,
    }
    summary = {
        "as_of_date": as_of,
        "as_of_at": as_of_at,
        "forecaster_version": champion.forecaster_version if champion else None,
        "classifier_version": champion.classifier_version if champion else None,
        "challenger_forecaster_version": challenger.forecaster_version if challenger else None,
        "challenger_classifier_version": challenger.classifier_version if challenger else None,
        "eta_source": "model" if champion is not None else "static",
        "eta_quantile": q,
        "open_orders": len(open_orders),
        "listed": len(listed),
        "held_out": int(listed["held_out"].sum()) if len(listed) else 0,
        "sim_actions": len(actions),
        "drift_share": drift.drift_share if drift is not None else None,
        "alerts": len(day_alerts),
        "retrain_reason": retrain_reason,
        "figures": json.dumps(figures, default=str, sort_keys=True),
        "computed_at": now,
    }
    return DayOutput(
        as_of_date=as_of,
        as_of_at=as_of_at,
        calibration=_calibration_table(calibration_rows, as_of, settings, now),
        predictions=pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame(),
        triage_list=listed,
        actions=actions,
        eta_rows=eta_rows,
        drift=drift,
        validity=validity,
        alerts=day_alerts,
        summary=summary,
    )


def _insert(con: Any, sql_name: str, view: str, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> None:
    if frame.empty:
        return
    con.register(view, frame)
    try:
        con.execute(store.load_sql(sql_name), params or {})
    finally:
        con.unregister(view)


TRIAGE_COLUMNS = ("as_of_date", "order_id", "rank", "expected_cost", "stuck_prob", "held_out", "reasons",
                  "eta_p10_at", "eta_p50_at", "eta_p90_at", "created_at")


def write_day(day: DayOutput, store_path: StorePath = None) -> None:
    """Replace the day's rows with `day` in ONE transaction (all of it commits, or none of it)."""
    d = day.as_of_date
    with store.transaction(store_path) as con:
        con.execute(store.load_sql("scoring_delete_day"), {"as_of_date": d})
        con.execute(store.load_sql("triage_delete_day"), {"as_of_date": d})
        con.execute(store.load_sql("triage_delete_sim_actions"), {"as_of_date": d, "actor": ranking.SIM_ACTOR})
        con.execute(store.load_sql("daily_eta_delete"), {"as_of_date": d, "next_date": d + timedelta(days=1)})
        con.execute(store.load_sql("daily_summary_delete"), {"as_of_date": d})
        logs.pause_point("daily_write")
        con.execute(store.load_sql("calibration_delete_day"), {"as_of_date": d})
        _insert(con, "calibration_insert", "calibration_rows", day.calibration)
        _insert(con, "scoring_insert", "prediction_rows", day.predictions)
        if len(day.triage_list):
            _insert(con, "triage_insert", "triage_rows", day.triage_list[list(TRIAGE_COLUMNS)])
        _insert(con, "triage_insert_actions", "action_rows", day.actions)
        con.execute(store.load_sql("daily_eta_insert_static"), {"from_date": d, "to_date": d})
        _insert(con, "daily_eta_insert_model", "eta_rows", day.eta_rows)
        # The monitor's own writers, inside this transaction, so drift, validity and alerts are part of
        # the atomic day.
        computed_at = day.summary["computed_at"]
        monitor_drift.write_drift(con, day.drift, d, day.summary["classifier_version"], computed_at)
        monitor_validity.write_validity(con, day.validity, d, computed_at)
        monitor_alerts.write_alerts(con, day.alerts, computed_at, replace_day=d)
        _insert(con, "daily_summary_insert", "summary_rows", pd.DataFrame([day.summary]))


def _day_done(as_of: date, store_path: StorePath) -> bool:
    found = store.fetch_df("daily_summary_read", {"since": as_of}, store_path)
    return bool(len(found)) and pd.Timestamp(found["as_of_date"].iloc[0]).date() == as_of


def run_daily(
    as_of: date,
    store_path: StorePath = None,
    *,
    feed: DayFeed | None = None,
    landing_dir: Path | None = None,
    settings: DailySettings | None = None,
    retrain: bool = True,
) -> dict[str, Any]:
    """Run the daily cycle for `as_of` under the `daily` lock; the day's summary (plus run id and
    retrain outcome). With a day `feed` (the simulated world of the closed loop: it is stepped through
    the day, told the ETAs shown and the orders triage worked), its files are the day's feed and the
    simulated team works the new list; otherwise the files in `landing_dir` are."""
    settings = settings or DailySettings()
    if store.utcnow().date() < as_of and feed is None:
        raise ConfigError(f"--as-of {as_of} is in the future; a daily run works on a day that has ended")
    started = time.perf_counter()
    with runs.job_run("daily", {"as_of": as_of.isoformat()}, store_path) as run:
        rerun = config.store_path(store_path).exists() and _day_done(as_of, store_path)
        day_files = feed(as_of) if feed is not None else _day_files(landing_dir, as_of)
        # The feed's files are the day's feed; otherwise the whole landing folder is offered (files of
        # later days wait, files already loaded are skipped), and the day's files name the validity batch.
        ingest_figures = _ingest(as_of, store_path, landing_dir, day_files if feed is not None else [])
        day = compute_day(as_of, store_path, settings=settings, simulate_triage=feed is not None,
                          day_files=day_files)
        write_day(day, store_path)
        outcome = {k: v for k, v in day.summary.items() if k not in ("figures", "computed_at")}
        outcome.update(json.loads(day.summary["figures"]), **ingest_figures,
                       seconds=round(time.perf_counter() - started, 2))
        run.figures.update({k: outcome[k] for k in ("open_orders", "listed", "held_out", "alerts", "seconds")})
        run.figures.update(ingest_figures)
        outcome["run_id"] = run.run_id
    if settings.notify and day.alerts and not rerun:
        monitor_alerts.notify(day.alerts, store_path=store_path)
    decayed = "accuracy_decay" in outcome.get("alert_rules", [])
    outcome["live_gate"] = None
    if retrain and not rerun:
        outcome["live_gate"] = live_gate(as_of, store_path, settings, champion_decayed=decayed)
    outcome["retrain"] = None
    if retrain and day.summary["retrain_reason"] and not rerun:
        outcome["retrain"] = start_retrain(as_of, store_path, settings, reason=day.summary["retrain_reason"],
                                           champion_decayed=decayed)
        retention = timedelta(days=settings.artifact_retention_days)
        outcome["retrain"]["artifacts_removed"] = registry.prune_rejected_artifacts(
            end_of_day(as_of) - retention, store_path)
    return outcome


def start_retrain(
    as_of: date, store_path: StorePath, settings: DailySettings, reason: str, champion_decayed: bool = False
) -> dict[str, Any]:
    """Retrain through the model factory on what was known at the end of `as_of`."""
    outcome = retraining.retrain(
        store_path, as_of=end_of_day(as_of), actor=f"daily ({reason})", policy=settings.gate,
        max_rows=settings.retrain_max_rows, model_params=settings.retrain_params,
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
    versions = registry.list_versions("forecaster", store_path)
    waiting = [v for v in versions if v.status == "candidate" and champion is not None
               and v.version_number > champion.version_number]
    if champion is None or not waiting:
        return None
    candidate = waiting[-1]
    for older in waiting[:-1]:  # only the newest is in shadow; the others will never be judged live
        promotion.reject(older.version_id, actor="live gate", store_path=store_path,
                        reason=f"superseded in shadow by {candidate.version_id}")
    policy = settings.gate or load_gate_policy()
    as_of_at = end_of_day(as_of)
    pairs = shadow.live_pairs(candidate.version_id, champion.version_id, as_of_at, store_path)
    if pairs.empty:
        return None
    costs = assumptions.load_assumptions(store_path, at=as_of_at)
    challenger_eval, champion_eval, mornings = shadow.live_evaluations(pairs, costs)
    shadow_days = int(pairs["as_of_date"].nunique())
    outcome: dict[str, Any] = {"version": candidate.version_id, "mornings": len(mornings), "n": challenger_eval["n"]}
    if len(mornings) < policy.live_min_days or challenger_eval["n"] < policy.live_min_forecasts:
        return {**outcome, "action": "waiting"}
    decision = evaluate_gate(challenger_eval, champion_eval, None, policy, champion_decayed=champion_decayed,
                             live=True)
    actor = "live gate"
    if decision.passed:
        version = promotion.record_gate(candidate.version_id, decision, expected_champion=champion.version_id,
                                       actor=actor, store_path=store_path)
        return {**outcome, "action": version.status, "reasons": decision.reasons}
    if shadow_days >= policy.live_max_days:
        promotion.reject(candidate.version_id, actor=actor, store_path=store_path,
                        reason=f"not better than the champion after {shadow_days} mornings in shadow: "
                        + "; ".join(decision.reasons))
        return {**outcome, "action": "rejected", "reasons": decision.reasons}
    return {**outcome, "action": "waiting", "reasons": decision.reasons}


def run_backfill(
    start: date,
    end: date,
    store_path: StorePath = None,
    *,
    feed: DayFeed | None = None,
    landing_dir: Path | None = None,
    settings: DailySettings | None = None,
    retrain: bool = True,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run the daily cycle for every day from `start` to `end` (inclusive), under the `backfill` lock."""
    if end < start:
        raise ConfigError(f"backfill: --to {end} is before --from {start}; give the range oldest first")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    outcomes: list[dict[str, Any]] = []
    with runs.job_run("backfill", {"from": start.isoformat(), "to": end.isoformat()}, store_path) as run:
        for day in tqdm(days, desc="backfill", unit="day", file=sys.stderr, disable=not progress):
            outcomes.append(run_daily(day, store_path, feed=feed, landing_dir=landing_dir, settings=settings,
                                      retrain=retrain))
        run.figures.update(days=len(days), alerts=int(sum(o["alerts"] for o in outcomes)))
    return outcomes
