"""The scheduler: runs the daily cycle, the weekly report and the nightly backup on a cron-like schedule.

The schedule is data (`ScheduledJob`: a CLI command, a UTC time of day, optionally a weekday), and
`run_due(now)` is the whole decision, with the clock injected so a test can play any day:
- a job is due when its latest slot at or before `now` has not been run yet;
- a missed slot is caught up once: after a scheduler outage of N days the job runs for the latest
  slot only (not N times), and a warning names how many were missed and how to fill them;
- a command that exits 75 (EX_TEMPFAIL: its `core.jobs.runs.job_run` lock raised `JobAlreadyRunningError`,
  or the store was busy) is skipped and stays due, so it runs at the next tick once the other run is
  done; any other failure is logged and not retried before the next slot;
- every run is logged as JSON with its own run id, which the command inherits ($JOURNEYOPS_RUN_ID).

What has run is kept in a small JSON state file beside the store, written atomically; one scheduler
per store (an exclusive lock file) so two replicas never run the same slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import threading
import time as time_module
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from core import config, logs, store
from core.config import StorePath
from core.errors import ConfigError, JourneyOpsError

EX_TEMPFAIL = 75  # exit code of JobAlreadyRunningError and StoreBusyError: try again later
BACKUP_DIR_ENV = "JOURNEYOPS_BACKUP_DIR"
REPORTS_DIR_ENV = "JOURNEYOPS_REPORTS_DIR"
TICK_ENV = "JOURNEYOPS_SCHEDULER_TICK_S"
log = logs.get_logger("scheduler")

# argv after `python -m core`, a run id -> exit code
Runner = Callable[[Sequence[str], str], int]


class SchedulerBusyError(JourneyOpsError):
    """Another scheduler already runs for this store."""

    exit_code = EX_TEMPFAIL


@dataclass(frozen=True)
class ScheduledJob:
    """One entry of the schedule: a command run every day (or on one weekday) at a UTC time."""

    name: str
    command: tuple[str, ...]  # after `python -m core`; {day_before}, {last_week}, {backups}, {reports}
    at: time
    weekday: int | None = None  # 0 = Monday; None = every day
    lock_kind: str = ""  # the job_runs kind the command locks (documentation and logs)


DEFAULT_SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("backup", ("backup", "--out", "{backups}", "--stamp", "--keep", "14"), time(2, 0), lock_kind="backup"),
    ScheduledJob("daily", ("daily", "--as-of", "{day_before}"), time(6, 0), lock_kind="daily"),
    ScheduledJob(
        "weekly_report",
        ("report", "weekly", "--week", "{last_week}", "--out", "{reports}"),
        time(7, 0),
        weekday=0,
        lock_kind="report",
    ),
)


def select_jobs(
    names: Sequence[str] | None, schedule: Sequence[ScheduledJob] = DEFAULT_SCHEDULE
) -> tuple[ScheduledJob, ...]:
    """The jobs of `schedule` with these names (all of them for None); ConfigError for an unknown name."""
    if not names:
        return tuple(schedule)
    known = {job.name: job for job in schedule}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"no scheduled job named {', '.join(unknown)}; the schedule has {', '.join(known)}")
    return tuple(known[name] for name in dict.fromkeys(names))


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one due job at one tick."""

    name: str
    slot: datetime
    argv: tuple[str, ...]
    status: str  # succeeded | failed | skipped
    exit_code: int
    run_id: str
    seconds: float
    missed_slots: int


def latest_slot(job: ScheduledJob, now: datetime) -> datetime:
    """The latest instant at or before `now` at which `job` was meant to run."""
    slot = datetime.combine(now.date(), job.at)
    if slot > now:
        slot -= timedelta(days=1)
    if job.weekday is not None:
        slot -= timedelta(days=(slot.weekday() - job.weekday) % 7)
    return slot


def slots_between(job: ScheduledJob, after: datetime, until: datetime) -> int:
    """How many slots of `job` fall in (after, until]."""
    step_days = 1 if job.weekday is None else 7
    if until <= after:
        return 0
    return int((until - after) / timedelta(days=step_days))


def iso_week(day: date) -> str:
    """The ISO week of a day as YYYY-Www (the weekly report's --week)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def backups_dir(store_file: Path) -> Path:
    """Where scheduled backups go: $JOURNEYOPS_BACKUP_DIR, else backups/ beside the store."""
    env = os.environ.get(BACKUP_DIR_ENV)
    return Path(env) if env else store_file.parent / "backups"


def reports_dir(store_file: Path) -> Path:
    """Where scheduled weekly reports go: $JOURNEYOPS_REPORTS_DIR, else reports/ beside the store."""
    env = os.environ.get(REPORTS_DIR_ENV)
    return Path(env) if env else store_file.parent / "reports"


def render_command(job: ScheduledJob, slot: datetime, store_file: Path) -> tuple[str, ...]:
    """The job's argv for one slot: the day before the slot, the ISO week before it, the folders."""
    values = {
        "day_before": (slot.date() - timedelta(days=1)).isoformat(),
        "last_week": iso_week(slot.date() - timedelta(days=7)),
        "backups": str(backups_dir(store_file)),
        "reports": str(reports_dir(store_file)),
    }
    return (*(part.format(**values) for part in job.command), "--store", str(store_file))


def state_file(store_file: Path) -> Path:
    """The scheduler's record of the slots it has run, beside the store."""
    return store_file.with_name(f"{store_file.stem}_scheduler.json")


def heartbeat_file(store_file: Path) -> Path:
    """Touched by a running scheduler every few seconds (the container health check reads it)."""
    return store_file.with_name(f"{store_file.stem}_scheduler.heartbeat")


def read_state(path: Path) -> dict[str, Any]:
    """The recorded slots per job name ({} when the scheduler never ran)."""
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except ValueError:
        log.warning("scheduler state unreadable; starting afresh", extra={"path": str(path)})
        return {}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(staged, path)


def subprocess_runner(argv: Sequence[str], run_id: str) -> int:
    """Run `python -m core ARGV` in a child process (a crash or leak never takes the scheduler down)."""
    env = {**os.environ, logs.RUN_ID_ENV: run_id}
    # The command's own output joins the logs on stderr, keeping stdout for `scheduler --once --json`.
    return subprocess.run(
        [sys.executable, "-m", "core", *argv], env=env, check=False, stdout=sys.stderr.fileno()
    ).returncode


def run_due(
    now: datetime,
    store_path: StorePath = None,
    *,
    schedule: Sequence[ScheduledJob] = DEFAULT_SCHEDULE,
    runner: Runner | None = None,
) -> list[RunOutcome]:
    """Run every job whose latest slot at or before `now` (UTC, naive) has not run; their outcomes."""
    store_file = config.store_path(store_path)
    runner = runner or subprocess_runner
    path = state_file(store_file)
    state = read_state(path)
    outcomes: list[RunOutcome] = []
    for job in schedule:
        slot = latest_slot(job, now)
        done = state.get(job.name)
        last_slot = datetime.fromisoformat(done["slot"]) if done else None
        if last_slot is not None and last_slot >= slot:
            continue
        missed = slots_between(job, last_slot, slot) - 1 if last_slot else 0
        argv = render_command(job, slot, store_file)
        run_id = logs.new_run_id()
        fields = {"job": job.name, "slot": slot.isoformat(), "command": " ".join(argv), "run_id": run_id}
        _warn_missed(missed, fields)
        log.info("job started", extra=fields)
        started = time_module.perf_counter()
        try:
            code = int(runner(argv, run_id))
        except Exception as exc:  # a runner that raises must not stop the other jobs
            log.exception("job crashed", extra={**fields, "error_type": type(exc).__name__})
            code = 1
        seconds = round(time_module.perf_counter() - started, 3)
        status = "succeeded" if code == 0 else "skipped" if code == EX_TEMPFAIL else "failed"
        outcome = RunOutcome(job.name, slot, argv, status, code, run_id, seconds, max(missed, 0))
        outcomes.append(outcome)
        if status == "skipped":
            log.warning(
                "job skipped: another run of its kind is active; retried at the next tick",
                extra={**fields, "exit_code": code, "lock_kind": job.lock_kind},
            )
            continue
        level = log.info if status == "succeeded" else log.error
        level(f"job {status}", extra={**fields, "exit_code": code, "seconds": seconds})
        record = {"slot": slot.isoformat(), "status": status, "run_id": run_id, "exit_code": code}
        _record(path, job.name, {**record, "finished_at": now.isoformat()})
    return outcomes


def _warn_missed(missed: int, fields: dict[str, Any]) -> None:
    if missed > 0:
        hint = "run the missed days by hand, e.g. python -m core backfill --from DAY --to DAY"
        log.warning("missed runs: only the latest is caught up", extra={**fields, "missed_slots": missed, "hint": hint})


@contextlib.contextmanager
def _flock(path: Path, blocking: bool) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


@contextlib.contextmanager
def single_instance(store_file: Path, schedule: Sequence[ScheduledJob] = DEFAULT_SCHEDULE) -> Iterator[None]:
    """Hold a lock file per job of `schedule`; SchedulerBusyError if another scheduler holds one
    (the compose scheduler holds all, a CronJob's `--once --job NAME` only its own)."""
    with contextlib.ExitStack() as stack:
        for job in schedule:
            lock_path = store_file.with_name(f"{store_file.stem}_scheduler_{job.name}.lock")
            if not stack.enter_context(_flock(lock_path, blocking=False)):
                raise SchedulerBusyError(
                    f"another scheduler is already running {job.name} for {store_file} (lock {lock_path}); run only one"
                )
        yield


def _record(path: Path, name: str, entry: dict[str, Any]) -> None:
    """Write one job's entry into the state file; CronJobs of different jobs may finish together."""
    with _flock(path.with_name(path.name + ".lock"), blocking=True):
        state = read_state(path)
        state[name] = entry
        _write_state(path, state)


def tick_seconds() -> float:
    """Seconds between two looks at the schedule ($JOURNEYOPS_SCHEDULER_TICK_S, default 60)."""
    return float(os.environ.get(TICK_ENV, "60"))


def _beat(path: Path, stop: threading.Event, every_s: float) -> None:
    while not stop.is_set():
        path.touch()
        stop.wait(every_s)


def run_forever(
    store_path: StorePath = None,
    *,
    schedule: Sequence[ScheduledJob] = DEFAULT_SCHEDULE,
    runner: Runner | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Look at the schedule every tick until `stop` is set (SIGTERM sets it in the CLI)."""

    store_file = config.store_path(store_path)
    stop = stop or threading.Event()
    clock = clock or store.utcnow
    tick = tick_seconds()
    with single_instance(store_file, schedule):
        heartbeat_file(store_file).touch()
        beat = threading.Thread(target=_beat, args=(heartbeat_file(store_file), stop, min(tick, 15.0)), daemon=True)
        beat.start()
        log.info(
            "scheduler started",
            extra={
                "store": str(store_file),
                "tick_s": tick,
                "schedule": [f"{j.name} {'Mon ' if j.weekday == 0 else ''}{j.at:%H:%M} UTC" for j in schedule],
            },
        )
        while not stop.is_set():
            try:
                run_due(clock(), store_file, schedule=schedule, runner=runner)
            except Exception:  # a broken state file or disk must not end the loop
                log.exception("scheduler tick failed")
            stop.wait(tick)
        beat.join()
        log.info("scheduler stopped", extra={"store": str(store_file)})
