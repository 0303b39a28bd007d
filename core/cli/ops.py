"""Commands for operations: scheduler, backup, restore, healthcheck."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from core import config, logs
from core.cli.common import add_command, print_json
from core.domain import check_day
from core.errors import ConfigError, JourneyOpsError

ROLE_ENV = "JOURNEYOPS_ROLE"
# The ports the image serves on: Streamlit's (.streamlit/config.toml, Makefile PORT) and the API's
# (Makefile API_PORT); tests/test_deploy.py checks the Dockerfile, compose and manifests use these.
DASHBOARD_PORT = 8501
API_PORT = 8000
HEALTH_URLS = {
    # runs app.py: fails when the dashboard cannot serve its pages, not only when the server is down
    "dashboard": f"http://127.0.0.1:{DASHBOARD_PORT}/_stcore/script-health-check",
    "api": f"http://127.0.0.1:{API_PORT}/healthz",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers, "scheduler", cmd_scheduler, "run daily, the weekly report and the nightly backup on their schedule"
    )
    p.add_argument("--once", action="store_true", help="run what is due now, then exit")
    p.add_argument("--now", metavar="ISO", help="pretend it is this UTC instant (with --once), e.g. 2026-03-09T06:30")
    p.add_argument(
        "--job",
        action="append",
        metavar="NAME",
        help="only this job of the schedule (repeatable; a CronJob runs one): backup, daily, weekly_report",
    )
    p.add_argument("--json", action="store_true", help="with --once: print what ran as JSON")

    p = add_command(
        subparsers, "backup", cmd_backup, "copy the store and its models, consistently, with a manifest of checksums"
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the backup folder (new or empty)")
    p.add_argument("--stamp", action="store_true", help="write into DIR/backup-<UTC stamp> instead")
    p.add_argument("--keep", type=int, metavar="N", help="with --stamp: keep only the newest N backups in DIR")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")

    p = add_command(
        subparsers,
        "restore",
        cmd_restore,
        "verify a backup, then put its store and models in place (refuses a damaged one)",
    )
    p.add_argument("path", type=Path, metavar="DIR", help="a backup folder (with manifest.json)")
    p.add_argument(
        "--force", action="store_true", help="replace an existing store (it is kept in a pre-restore folder beside it)"
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")

    p = add_command(subparsers, "job-runs", cmd_job_runs, "the latest job runs: kind, status, duration, error")
    p.add_argument("--kind", help="only this kind (daily, backfill, retrain, backup, ...)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print as JSON")

    p = add_command(
        subparsers,
        "healthcheck",
        cmd_healthcheck,
        "exit 0 when this container's role is healthy (the image's HEALTHCHECK)",
    )
    p.add_argument(
        "--role", choices=("dashboard", "api", "scheduler", "job"), help="default: $JOURNEYOPS_ROLE, else job"
    )


def cmd_scheduler(args: argparse.Namespace) -> None:
    from core.ops import scheduler

    logs.configure()
    if args.now and not args.once:
        raise ConfigError("--now only goes with --once (a running scheduler follows the real clock)")
    schedule = scheduler.select_jobs(args.job)
    if args.once:
        now = _parse_now(args.now)
        with scheduler.single_instance(config.store_path(args.store), schedule):
            outcomes = scheduler.run_due(now, args.store, schedule=schedule)
        if args.json:
            print_json([{**o.__dict__, "slot": o.slot.isoformat()} for o in outcomes])
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.run_forever(args.store, schedule=schedule, stop=stop)


def _parse_now(text: str | None) -> datetime:
    from core import store

    if text is None:
        return store.utcnow()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--now {text!r} is not an ISO instant; write it as 2026-03-09T06:30") from exc
    check_day(parsed.date(), "--now")
    # The schedule is in UTC and naive, as every timestamp in the store.
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def cmd_backup(args: argparse.Namespace) -> None:
    from core.ops import backup

    logs.configure()
    if args.keep is not None and not args.stamp:
        raise ConfigError("--keep only goes with --stamp (it prunes dated backups in DIR)")
    manifest = backup.create_backup(args.out, args.store, stamped=args.stamp, keep=args.keep)
    if args.json:
        print_json(manifest)
        return
    size_mb = sum(f["bytes"] for f in manifest["files"].values()) / 1e6
    print(
        f"backup written to {manifest['path']}: {len(manifest['files'])} files, {size_mb:.1f} MB, "
        f"schema {manifest['schema_version']}, champions {manifest['champions'] or 'none'}"
    )


def cmd_restore(args: argparse.Namespace) -> None:
    from core.ops import backup

    logs.configure()
    outcome = backup.restore_backup(args.path, args.store, force=args.force)
    if args.json:
        print_json(outcome)
        return
    kept = f"; the previous store is kept in {outcome['previous_kept_in']}" if outcome["previous_kept_in"] else ""
    print(f"restored {outcome['store']} from {outcome['restored_from']}{kept}")


def cmd_job_runs(args: argparse.Namespace) -> None:
    import json

    from core.jobs import runs as jobs

    if args.limit < 1:
        raise ConfigError(f"--limit {args.limit} is not a positive number of runs; write e.g. --limit 20")
    runs = jobs.recent_runs(args.kind, args.limit, args.store)
    records = json.loads(runs.to_json(orient="records", date_format="iso"))
    if args.json:
        print_json(records)
        return
    if not records:
        print("no job runs recorded yet")
    for run in records:
        took = "-" if run["duration_s"] is None else f"{run['duration_s']:.1f} s"
        error = f"  {run['error']}" if run["error"] else ""
        print(f"{run['started_at'][:19]}  {run['kind']:<10} {run['status']:<10} {took:>9}  {run['run_id']}{error}")


def cmd_healthcheck(args: argparse.Namespace) -> int:
    from core.ops import scheduler

    role = args.role or os.environ.get(ROLE_ENV, "job")
    if role in HEALTH_URLS:
        try:
            with urllib.request.urlopen(HEALTH_URLS[role], timeout=4) as response:  # noqa: S310 - loopback
                ok = response.status == 200
        except urllib.error.HTTPError as exc:
            raise JourneyOpsError(
                f"{role} answers {exc.code} on {HEALTH_URLS[role]}: it cannot serve its pages; see its logs"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise JourneyOpsError(f"{role} is not answering on {HEALTH_URLS[role]} ({exc})") from exc
        return 0 if ok else 1
    if role == "scheduler":
        beat = scheduler.heartbeat_file(config.store_path(args.store))
        age_s = (datetime.now().timestamp() - beat.stat().st_mtime) if beat.exists() else None
        if age_s is None or age_s > 120:
            raise JourneyOpsError(f"the scheduler's heartbeat {beat} is missing or stale; see its logs")
        return 0
    return 0  # a one-off job is healthy while it runs
