"""The daily cycle: the day's rows, idempotency (identical tables), a killed run, the lock, the CLI."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core import store
from core.cli import main
from core.jobs import closed_loop, daily, daily_retrain, daily_settings
from core.jobs import runs as jobs
from core.monitor import drift_store
from core.registry import versions as registry
from core.scoring import batch
from core.triage import ranking
from core.views import today
from tests.conftest import REPO_ROOT
from tests.test_scenarios import TrainedWorld, copy_world, session_world

# Columns that record when a row was written, and Evidently's snapshot (it embeds its own run ids and
# times): everything else must be identical after a re-run.
WRITE_TIME_COLUMNS = {"scored_at", "created_at", "computed_at", "updated_at", "snapshot_json"}


def table_hashes(path: Path) -> dict[str, str]:
    """sha256 of each table's sorted contents (job_runs aside: every run is recorded)."""
    hashes = {}
    with store.connect(path, read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        for table in sorted(set(tables) - {"job_runs"}):
            frame = con.table(table).df()
            frame = frame.drop(columns=[c for c in frame.columns if c in WRITE_TIME_COLUMNS])
            text = frame.astype(str).sort_values(list(frame.columns)).to_csv(index=False) if len(frame.columns) else ""
            hashes[table] = hashlib.sha256(text.encode()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """A copy of the trained world with two days run by the CLI (backfill; the world from its state file)."""
    copy = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("two_days"))
    first, second = copy.next_day, copy.next_day + timedelta(days=1)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert (
            main(["backfill", "--store", str(copy.store), "--from", str(first), "--to", str(second), "--no-retrain"])
            == 0
        )
    return copy


def read(sql: str, path: Path, **params: object) -> pd.DataFrame:
    with store.connect(path, read_only=True) as con:
        return con.execute(sql, params).df()


def test_a_day_scores_lists_and_shows(two_days: TrainedWorld) -> None:
    day = two_days.next_day
    # both days are among a backfill's last days: each keeps Evidently's snapshot for its report
    assert drift_store.snapshot_days(two_days.store) == [day + timedelta(days=1), day]
    summary = today.read_daily_summary(None, two_days.store)
    assert [pd.Timestamp(d).date() for d in summary["as_of_date"]] == [day, day + timedelta(days=1)]
    row = summary.iloc[0]
    assert row["eta_source"] == "model" and row["classifier_version"] == "stuck_classifier-v1"
    predictions = read("select * from predictions where as_of_date = $d", two_days.store, d=day)
    assert len(predictions) == row["open_orders"] > 0
    assert set(predictions["role"]) == {"champion"}
    assert (predictions["p10_h"] <= predictions["p50_h"]).all() and (predictions["p50_h"] <= predictions["p90_h"]).all()
    listed = read("select * from triage_list where as_of_date = $d order by rank", two_days.store, d=day)
    assert len(listed) == ranking.TriageSettings().list_size == row["listed"]
    assert listed["held_out"].sum() == row["held_out"]
    assert listed["expected_cost"].is_monotonic_decreasing
    reasons = [json.loads(r) for r in listed["reasons"]]
    assert sum(bool(r) for r in reasons) >= len(reasons) // 2
    assert all(reason["text"] and reason["effect"] > 0 for r in reasons for reason in r)
    # What customers see from the next morning: the model's ETA for every open order.
    etas = read(
        "select * from eta_shown where shown_from = $d and source = 'model'", two_days.store, d=day + timedelta(days=1)
    )
    assert len(etas) == row["open_orders"]
    placed = read("select count(*) as n from orders where placed_at::date = $d", two_days.store, d=day)["n"][0]
    static = read(
        "select count(*) as n from eta_shown where shown_from = $d and source = 'static'", two_days.store, d=day
    )["n"][0]
    assert static == placed > 0


def test_held_out_orders_are_never_shown_nor_worked(two_days: TrainedWorld) -> None:
    listed = read("select * from triage_list", two_days.store)
    held = set(listed.loc[listed["held_out"], "order_id"])
    assert held
    actions = read("select * from triage_actions", two_days.store)
    assert set(actions["actor"]) == {ranking.SIM_ACTOR}
    assert not held & set(actions["order_id"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["triage-list", "--store", str(two_days.store), "--json"]) == 0
    shown = json.loads(out.getvalue())
    assert shown and not any(r["held_out"] for r in shown)
    assert not held & {r["order_id"] for r in shown}
    # The holdout is stable: an order listed on both days is held out on both or on neither.
    both = listed.groupby("order_id")["held_out"].agg(["nunique", "size"])
    assert (both.loc[both["size"] == 2, "nunique"] == 1).all()
    assert (both["size"] == 2).any()


def test_rerun_gives_identical_tables(two_days: TrainedWorld) -> None:
    before = table_hashes(two_days.store)
    world = closed_loop.load_world(two_days.store)
    daily.run_daily(
        two_days.next_day + timedelta(days=1),
        two_days.store,
        feed=closed_loop.world_feed(world, two_days.store),
        retrain=False,
    )
    assert table_hashes(two_days.store) == before


def test_killed_run_leaves_the_previous_state(two_days: TrainedWorld) -> None:
    before = table_hashes(two_days.store)
    env = {
        **os.environ,
        "JOURNEYOPS_PAUSE_AT": "daily_write",
        "JOURNEYOPS_PAUSE_S": "120",
        "JOURNEYOPS_STORE": str(two_days.store),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "daily", "--as-of", str(two_days.next_day + timedelta(days=1)), "--no-retrain"],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        assert proc.stderr is not None
        for line in proc.stderr:  # the run has deleted the day's rows inside its open transaction
            if "paused at daily_write" in line or time.monotonic() > deadline:
                break
        assert proc.poll() is None, "the daily run ended before its pause point"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert table_hashes(two_days.store) == before
    # The killed run's lock is found dead and released: the next run goes ahead.
    runs = jobs.recent_runs("daily", store_path=two_days.store)
    assert "running" in set(runs["status"])


def test_second_start_says_what_is_running(two_days: TrainedWorld) -> None:
    with jobs.job_run("daily", {"as_of": "held"}, two_days.store):
        with pytest.raises(jobs.JobAlreadyRunningError, match="a daily job is already running"):
            daily.run_daily(two_days.next_day, two_days.store, retrain=False)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["daily", "--store", str(two_days.store), "--as-of", str(two_days.next_day)])
        assert code == jobs.JobAlreadyRunningError.exit_code
        assert "a daily job is already running" in err.getvalue()


def test_retrain_is_due_on_schedule_and_on_alerts(two_days: TrainedWorld) -> None:
    from core.monitor.alerts import Alert

    champion = batch.load_serving(two_days.next_day, two_days.store)["champion"]
    newest = registry.list_versions("forecaster", two_days.store)[-1]
    # Trained at the end of this day (its as-of instant is the next midnight).
    trained_day = date.fromisoformat(newest.backtest["as_of"][:10]) - timedelta(days=1)
    settings = daily_settings.DailySettings(retrain_every_days=7, retrain_cooldown_days=3)
    due = daily_retrain.retrain_reason
    assert due([], champion, trained_day + timedelta(days=6), settings, two_days.store) is None
    assert due([], champion, trained_day + timedelta(days=7), settings, two_days.store) == (
        "schedule: 7 days since the last retrain (every 7)"
    )
    drift = Alert(date(2026, 7, 1), "drift_share", "critical", "features", "drifted")
    new_carrier = Alert(date(2026, 7, 1), "new_category", "warning", "carrier", "a new carrier")
    # A trigger waits for the cool-down since the last retrain, then fires.
    assert due([drift], champion, trained_day + timedelta(days=2), settings, two_days.store) is None
    assert due([drift, new_carrier], champion, trained_day + timedelta(days=3), settings, two_days.store) == (
        "alert: drift_share, new_category"
    )
    # No champion although a model was trained (a go-live whose candidates failed their gate): the
    # schedule tries again, alerts do not (there is no live model they judge).
    assert due([drift], None, trained_day + timedelta(days=6), settings, two_days.store) is None
    assert due([], None, trained_day + timedelta(days=9), settings, two_days.store) == (
        "no champion yet: 9 days since the last attempt (every 7)"
    )


def test_a_candidate_in_shadow_gets_one_cycle_then_the_schedule_replaces_it(
    two_days: TrainedWorld, tmp_path: Path
) -> None:
    from core.monitor.alerts import Alert
    from core.registry import registration

    world = copy_world(two_days, tmp_path)
    champion = batch.load_serving(world.next_day, world.store)["champion"]
    newest = registry.list_versions("forecaster", world.store)[-1]
    model = registry.load_version(newest.version_id, world.store)[1]
    shadow_day = world.next_day  # a candidate trained at the end of this day waits in shadow
    candidate = registration.register_version(
        "forecaster",
        model,
        training_window=newest.training_window,
        feature_columns=newest.feature_columns,
        metrics=newest.metrics,
        backtest={"as_of": (shadow_day + timedelta(days=1)).isoformat() + "T00:00:00"},
        evaluation=None,
        store_path=world.store,
    )
    assert candidate.status == "candidate"
    settings = daily_settings.DailySettings(retrain_every_days=7, retrain_cooldown_days=3)
    due = daily_retrain.retrain_reason
    drift = Alert(date(2026, 7, 1), "drift_share", "critical", "features", "drifted")
    # A trigger does not replace it after the 3-day cool-down, only after a full cycle ...
    assert due([drift], champion, shadow_day + timedelta(days=3), settings, world.store) is None
    assert due([drift], champion, shadow_day + timedelta(days=7), settings, world.store) == "alert: drift_share"
    # ... and the schedule does not wait for its live verdict past that cycle.
    assert due([], champion, shadow_day + timedelta(days=6), settings, world.store) is None
    assert due([], champion, shadow_day + timedelta(days=7), settings, world.store) == (
        "schedule: 7 days since the last retrain (every 7)"
    )


def test_a_store_that_never_trained_is_not_retrained_by_the_daily_run(store_file: Path) -> None:
    assert main(["init", "--store", str(store_file)]) == 0
    settings = daily_settings.DailySettings(retrain_every_days=7)
    assert daily_retrain.retrain_reason([], None, date(2026, 3, 9), settings, store_file) is None


def test_backfill_refuses_a_reversed_range(store_file: Path) -> None:
    with pytest.raises(daily.ConfigError, match="is before --from"):
        daily.run_backfill(date(2026, 3, 5), date(2026, 3, 1), store_file)


def test_a_backfill_keeps_the_drift_report_for_its_last_days_only(store_file: Path, monkeypatch) -> None:
    assert main(["init", "--store", str(store_file)]) == 0
    kept: dict[date, bool] = {}

    def run_daily(day: date, *args: object, settings: daily_settings.DailySettings, **kwargs: object) -> dict:
        kept[day] = settings.drift_report
        return {"alerts": 0}

    monkeypatch.setattr(daily, "run_daily", run_daily)
    first = date(2026, 3, 1)
    daily.run_backfill(first, first + timedelta(days=9), store_file, progress=False)
    assert [kept[first + timedelta(days=i)] for i in range(10)] == [False] * 3 + [True] * 7
    off = daily_settings.DailySettings(drift_report=False)
    daily.run_backfill(first, first + timedelta(days=2), store_file, settings=off, progress=False)
    assert not any(kept[first + timedelta(days=i)] for i in range(3))
