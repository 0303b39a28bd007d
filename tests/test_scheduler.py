"""The scheduler with an injected clock: what is due, catching up once, skipping a locked run, logs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path

import pytest

from core import logs
from core.cli import main
from core.jobs import runs
from core.ops import backup, scheduler
from core.ops.scheduler import DEFAULT_SCHEDULE, ScheduledJob
from tests.fixtures import ORDER_WORLD_EVENTS, write_events


def inprocess_runner(argv: Sequence[str], run_id: str) -> int:
    """Run the command in this process through the CLI (the scheduler's runner in these tests)."""
    with logs.run_context(run_id):
        return main(list(argv))


DAILY = ScheduledJob("daily", ("daily", "--as-of", "{day_before}"), time(6, 0), lock_kind="daily")
WEEKLY = ScheduledJob("weekly_report", ("report", "weekly", "--week", "{last_week}"), time(7, 0), weekday=0)


class FakeRunner:
    """Records every command and answers with the next exit code (0 when none are left)."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], run_id: str) -> int:
        self.calls.append(tuple(argv))
        return self.codes.pop(0) if self.codes else 0


def test_latest_slot_for_daily_and_monday_jobs() -> None:
    assert scheduler.latest_slot(DAILY, datetime(2026, 3, 10, 5, 59)) == datetime(2026, 3, 9, 6, 0)
    assert scheduler.latest_slot(DAILY, datetime(2026, 3, 10, 6, 0)) == datetime(2026, 3, 10, 6, 0)
    # 2026-03-09 is a Monday
    assert scheduler.latest_slot(WEEKLY, datetime(2026, 3, 11, 12, 0)) == datetime(2026, 3, 9, 7, 0)
    assert scheduler.latest_slot(WEEKLY, datetime(2026, 3, 9, 6, 59)) == datetime(2026, 3, 2, 7, 0)


def test_commands_name_the_day_before_and_the_week_before(store_file: Path) -> None:
    assert scheduler.render_command(DAILY, datetime(2026, 3, 10, 6, 0), store_file) == (
        "daily",
        "--as-of",
        "2026-03-09",
        "--store",
        str(store_file),
    )
    assert scheduler.render_command(WEEKLY, datetime(2026, 3, 9, 7, 0), store_file)[:4] == (
        "report",
        "weekly",
        "--week",
        "2026-W10",
    )
    assert scheduler.iso_week(datetime(2027, 1, 1).date()) == "2026-W53"


def test_a_due_job_runs_once_and_a_missed_stretch_is_caught_up_once(store_file: Path) -> None:
    runner = FakeRunner()
    first = scheduler.run_due(datetime(2026, 3, 10, 6, 30), store_file, schedule=[DAILY], runner=runner)
    assert [(o.name, o.status, o.missed_slots) for o in first] == [("daily", "succeeded", 0)]
    assert scheduler.run_due(datetime(2026, 3, 10, 23, 0), store_file, schedule=[DAILY], runner=runner) == []
    # the scheduler was down for three mornings: one run, for the latest day, and a count of the missed
    later = scheduler.run_due(datetime(2026, 3, 13, 6, 30), store_file, schedule=[DAILY], runner=runner)
    assert [(o.status, o.missed_slots) for o in later] == [("succeeded", 2)]
    assert [call[2] for call in runner.calls] == ["2026-03-09", "2026-03-12"]
    state = json.loads(scheduler.state_file(store_file).read_text())
    assert state["daily"]["slot"] == "2026-03-13T06:00:00" and state["daily"]["status"] == "succeeded"


def test_a_skipped_run_stays_due_and_a_failed_one_waits_for_the_next_slot(store_file: Path) -> None:
    runner = FakeRunner(scheduler.EX_TEMPFAIL, 1)
    now = datetime(2026, 3, 10, 6, 30)
    assert [o.status for o in scheduler.run_due(now, store_file, schedule=[DAILY], runner=runner)] == ["skipped"]
    assert [o.status for o in scheduler.run_due(now, store_file, schedule=[DAILY], runner=runner)] == ["failed"]
    assert scheduler.run_due(now, store_file, schedule=[DAILY], runner=runner) == []
    assert len(runner.calls) == 2


def test_the_real_daily_command_is_skipped_while_a_daily_run_holds_the_lock(store_file: Path) -> None:
    write_events(store_file, ORDER_WORLD_EVENTS)
    with runs.job_run("daily", {"as_of": "2026-03-09"}, store_file):
        outcomes = scheduler.run_due(
            datetime(2026, 3, 10, 6, 30), store_file, schedule=[DAILY], runner=inprocess_runner
        )
    assert [(o.status, o.exit_code) for o in outcomes] == [("skipped", 75)]
    assert not scheduler.state_file(store_file).exists()


def test_the_nightly_backup_runs_for_real_and_every_run_is_logged_as_json(
    store_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    write_events(store_file, ORDER_WORLD_EVENTS)
    monkeypatch.setenv("JOURNEYOPS_BACKUP_DIR", str(tmp_path / "backups"))
    stream = io.StringIO()
    handler = logs.configure(stream=stream)
    request.addfinalizer(lambda: logging.getLogger("journeyops").removeHandler(handler))
    nightly = [job for job in DEFAULT_SCHEDULE if job.name == "backup"]
    outcomes = scheduler.run_due(datetime(2026, 3, 10, 2, 5), store_file, schedule=nightly, runner=inprocess_runner)
    assert [(o.name, o.status) for o in outcomes] == [("backup", "succeeded")]
    (made,) = (tmp_path / "backups").iterdir()
    assert made.name.startswith("backup-") and backup.verify_backup(made)["counts"]["orders"] == 4
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = [(line["logger"], line["event"]) for line in lines]
    assert events == [
        ("journeyops.scheduler", "job started"),
        ("journeyops.backup", "backup written"),
        ("journeyops.scheduler", "job succeeded"),
    ]
    assert {line["run_id"] for line in lines} == {outcomes[0].run_id}
    assert lines[0]["job"] == "backup" and lines[0]["slot"] == "2026-03-10T02:00:00"


def test_one_scheduler_per_job_and_store(store_file: Path) -> None:
    with scheduler.single_instance(store_file, [DAILY]):
        with pytest.raises(scheduler.SchedulerBusyError, match="another scheduler is already running daily"):
            with scheduler.single_instance(store_file):
                pass
        with scheduler.single_instance(store_file, [WEEKLY]):  # another job's CronJob may run alongside
            pass
    with scheduler.single_instance(store_file):
        pass


def test_cli_once_with_a_clock_and_clear_errors(store_file: Path) -> None:
    done = {job.name: {"slot": "2026-03-10T07:00:00", "status": "succeeded"} for job in DEFAULT_SCHEDULE}
    scheduler.state_file(store_file).write_text(json.dumps(done))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init"]) == 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["scheduler", "--once", "--now", "2026-03-10T07:30", "--json"]) == 0
        assert main(["scheduler", "--now", "2026-03-10T07:30"]) == 2
        assert main(["scheduler", "--once", "--job", "hourly"]) == 2
        assert main(["scheduler", "--once", "--now", "yesterday"]) == 2
    assert json.loads(out.getvalue()) == []
    assert err.getvalue().splitlines() == [
        "error: --now only goes with --once (a running scheduler follows the real clock)",
        "error: no scheduled job named hourly; the schedule has backup, daily, weekly_report",
        "error: --now 'yesterday' is not an ISO instant; write it as 2026-03-09T06:30",
    ]


def test_the_loop_runs_due_jobs_beats_and_stops(store_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYOPS_SCHEDULER_TICK_S", "0.01")
    stop = threading.Event()
    calls: list[tuple[str, ...]] = []

    def runner(argv: Sequence[str], run_id: str) -> int:
        calls.append(tuple(argv))
        stop.set()
        return 0

    scheduler.run_forever(
        store_file, schedule=[DAILY], runner=runner, stop=stop, clock=lambda: datetime(2026, 3, 10, 6, 30)
    )
    assert calls == [("daily", "--as-of", "2026-03-09", "--store", str(store_file))]
    assert scheduler.heartbeat_file(store_file).exists()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["healthcheck", "--role", "scheduler"]) == 0
        assert main(["healthcheck", "--role", "job"]) == 0
        scheduler.heartbeat_file(store_file).unlink()
        assert main(["healthcheck", "--role", "scheduler"]) == 2
    assert "heartbeat" in err.getvalue() and "is missing or stale" in err.getvalue()
