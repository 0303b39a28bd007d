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

The steps live beside this module: `daily_compute` (what the day writes), `daily_monitor` (drift and
live accuracy), `daily_retrain` (retrain triggers and the live gate), `daily_settings`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from core import config, logs, store
from core.config import StorePath
from core.domain import end_of_day
from core.errors import ConfigError
from core.ingest import landing
from core.jobs import list_mail, runs
from core.jobs.daily_compute import DayOutput, Scorer, compute_day
from core.jobs.daily_retrain import live_gate, start_retrain
from core.jobs.daily_settings import DailySettings
from core.monitor import alert_delivery, alert_store, drift_store
from core.monitor import validity as monitor_validity
from core.monitor.alerts import Alert
from core.registry import versions as registry
from core.triage import ranking

# Where a day's data comes from when it is produced for the run: the day -> the files it landed.
DayFeed = Callable[[date], list[Path]]


def _day_files(landing_dir: Path | None, as_of: date) -> list[Path]:
    if landing_dir is None or not landing_dir.is_dir():
        return []
    return sorted(p for p in landing_dir.iterdir() if p.is_file() and as_of.isoformat() in p.name)


def _ingest(as_of: date, store_path: StorePath, landing_dir: Path | None, day_files: Sequence[Path]) -> dict[str, Any]:
    """Load what landed through the as-of day; files of later days wait for their own run."""
    paths: list[Path] = list(day_files) or ([landing_dir] if landing_dir is not None and landing_dir.is_dir() else [])
    if not paths:
        return {"files_loaded": 0, "files_already_loaded": 0, "files_rejected": 0, "rows_quarantined": 0}
    summary = landing.ingest_paths(
        paths, store_path=store_path, now=end_of_day(as_of), raise_on_reject=False, through=as_of
    )
    return {k: summary[k] for k in ("files_loaded", "files_already_loaded", "files_rejected", "rows_quarantined")}


def _insert(con: Any, sql_name: str, view: str, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> None:
    if frame.empty:
        return
    con.register(view, frame)
    try:
        con.execute(store.load_sql(sql_name), params or {})
    finally:
        con.unregister(view)


TRIAGE_COLUMNS = (
    "as_of_date",
    "order_id",
    "rank",
    "expected_cost",
    "stuck_prob",
    "held_out",
    "reasons",
    "eta_p10_at",
    "eta_p50_at",
    "eta_p90_at",
    "created_at",
)


def write_day(day: DayOutput, store_path: StorePath = None) -> list[Alert]:
    """Replace the day's rows with `day` in ONE transaction (all of it commits, or none of it); the
    day's alerts that opened a new alert item (a condition already open is not news)."""
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
        drift_store.write_drift(con, day.drift, d, day.summary["classifier_version"], computed_at)
        monitor_validity.write_validity(con, day.validity, d, computed_at)
        opened = alert_store.write_alerts(con, day.alerts, computed_at, replace_day=d)
        _insert(con, "daily_summary_insert", "summary_rows", pd.DataFrame([day.summary]))
    return opened


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
    scorer: Scorer | None = None,
    engine: str = "duckdb",
) -> dict[str, Any]:
    """Run the daily cycle for `as_of` under the `daily` lock; the day's summary (plus run id and
    retrain outcome). With a day `feed` (the simulated world of the closed loop: it is stepped through
    the day, told the ETAs shown and the orders triage worked), its files are the day's feed and the
    simulated team works the new list; otherwise the files in `landing_dir` are. `scorer` features and
    scores the open orders (default: on the store; the Spark daily passes its own, `engine="spark"`)."""
    settings = settings or DailySettings()
    if store.utcnow().date() < as_of and feed is None:
        raise ConfigError(f"--as-of {as_of} is in the future; a daily run works on a day that has ended")
    started = time.perf_counter()
    params = {"as_of": as_of.isoformat(), **({"engine": engine} if engine != "duckdb" else {})}
    with runs.job_run("daily", params, store_path) as run:
        rerun = config.store_path(store_path).exists() and _day_done(as_of, store_path)
        day_files = feed(as_of) if feed is not None else _day_files(landing_dir, as_of)
        # The feed's files are the day's feed; otherwise the whole landing folder is offered (files of
        # later days wait, files already loaded are skipped), and the day's files name the validity batch.
        ingest_figures = _ingest(as_of, store_path, landing_dir, day_files if feed is not None else [])
        day = compute_day(
            as_of, store_path, settings=settings, simulate_triage=feed is not None, day_files=day_files, scorer=scorer
        )
        opened = write_day(day, store_path)
        outcome = {k: v for k, v in day.summary.items() if k not in ("figures", "computed_at")}
        outcome.update(
            json.loads(day.summary["figures"]), **ingest_figures, seconds=round(time.perf_counter() - started, 2)
        )
        run.figures.update({k: outcome[k] for k in ("open_orders", "listed", "held_out", "alerts", "seconds")})
        run.figures.update(ingest_figures)
        if outcome.get("step_failures"):  # the run succeeded, with these steps skipped: its warnings
            run.figures["warnings"] = [f"{f['step']} step failed: {f['error']}" for f in outcome["step_failures"]]
        outcome["run_id"] = run.run_id
    if settings.notify and opened and not rerun:
        alert_delivery.notify(opened, store_path=store_path)
    # The list by e-mail once it is written; a re-run of the day does not send it again.
    outcome["list_mail"] = None if rerun else list_mail.mail_configured(as_of, store_path, settings.list_mail_to)
    decayed = "accuracy_decay" in outcome.get("alert_rules", [])
    outcome["live_gate"] = None
    if retrain and not rerun:
        outcome["live_gate"] = live_gate(as_of, store_path, settings, champion_decayed=decayed)
    outcome["retrain"] = None
    if retrain and day.summary["retrain_reason"] and not rerun:
        outcome["retrain"] = start_retrain(
            as_of, store_path, settings, reason=day.summary["retrain_reason"], champion_decayed=decayed
        )
        retention = timedelta(days=settings.artifact_retention_days)
        outcome["retrain"]["artifacts_removed"] = registry.prune_rejected_artifacts(
            end_of_day(as_of) - retention, store_path
        )
    return outcome


# The days at the end of a backfill that keep Evidently's drift snapshot (a week of reports to open).
BACKFILL_REPORT_DAYS = 7


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
    """Run the daily cycle for every day from `start` to `end` (inclusive), under the `backfill` lock.
    Evidently's drift snapshot (for the Drift page's report) is kept for the last `BACKFILL_REPORT_DAYS`
    days of the range only: it is half of a small day's run, and every day keeps its drift scores."""
    if end < start:
        raise ConfigError(f"backfill: --to {end} is before --from {start}; give the range oldest first")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    # History is rebuilt, not news: a backfill mails no list.
    settings = replace(settings or DailySettings(), list_mail_to=())
    outcomes: list[dict[str, Any]] = []
    with runs.job_run("backfill", {"from": start.isoformat(), "to": end.isoformat()}, store_path) as run:
        for day in tqdm(days, desc="backfill", unit="day", file=sys.stderr, disable=not progress):
            reported = settings.drift_report and (end - day).days < BACKFILL_REPORT_DAYS
            day_settings = replace(settings, drift_report=reported)
            outcomes.append(
                run_daily(day, store_path, feed=feed, landing_dir=landing_dir, settings=day_settings, retrain=retrain)
            )
        run.figures.update(days=len(days), alerts=int(sum(o["alerts"] for o in outcomes)))
    return outcomes
