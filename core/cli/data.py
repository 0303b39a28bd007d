"""Commands for the world and the data: simulate, init, ingest, import-log, status, demo."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from core import config, store
from core.cli.common import add_command, print_json
from core.errors import ConfigError, JourneyOpsError

# Sized so that `make run` builds the whole closed-loop history in under 2 minutes on 2 cores.
DEMO_DAYS = 42
DEMO_ORDERS_PER_DAY = 600
CLEAN_FEED_HELP = (
    "write the landing files without the late, duplicated and malformed rows world.toml's "
    "[feed_defects] adds (the world's history is the same either way)"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(subparsers, "simulate", cmd_simulate, "write landing files of the simulated world")
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--orders-per-day", type=int, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, required=True, help="folder for the landing files")
    p.add_argument("--start", help="first day, YYYY-MM-DD (default: DAYS days before today)")
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME@DATE",
        help="switch on a drift scenario at a date, e.g. new_carrier@2026-03-01 (repeatable)",
    )
    p.add_argument("--clean-feed", action="store_true", help=CLEAN_FEED_HELP)

    add_command(subparsers, "init", cmd_init, "create an empty store (every other write command needs one)")

    p = add_command(subparsers, "ingest", cmd_ingest, "load landing files (CSV or Parquet) or folders of them")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--to-lake",
        metavar="PATH",
        help="also add the loaded events and orders to this Parquet lake (start it with `lake export`)",
    )

    p = add_command(subparsers, "import-log", cmd_import_log, "import a real event log (XES, CSV or Parquet)")
    p.add_argument("path", type=Path)
    p.add_argument("--case-col", help="column with the case id (default: case:concept:name or case_id)")
    p.add_argument("--activity-col", help="column with the activity (default: concept:name or activity)")
    p.add_argument("--time-col", help="column with the timestamp (default: time:timestamp or timestamp)")
    p.add_argument(
        "--lifecycle",
        default="auto",
        help="which lifecycle:transition to keep: auto (default: the events that end an activity, "
        "see docs/forecasting.md), all, or a word such as complete",
    )
    p.add_argument("--tz", help="time zone of timestamps written without an offset (default: UTC)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = add_command(subparsers, "status", cmd_status, "what the store holds")
    p.add_argument("--json", action="store_true", help="print as JSON")

    p = add_command(subparsers, "demo", cmd_demo, "build the demo store from the simulated world")
    p.add_argument("--days", type=int, default=DEMO_DAYS)
    p.add_argument("--orders-per-day", type=int, default=DEMO_ORDERS_PER_DAY)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--fresh", action="store_true", help="delete an existing store (and its models) first")
    p.add_argument("--skip-training", action="store_true", help="only simulate and ingest; train no models")
    p.add_argument(
        "--scenario",
        default="new_carrier",
        metavar="NAME",
        help="the drift switched on a week after go-live: new_carrier (default), warehouse_outage, "
        "demand_surge, schema_change, or none",
    )
    p.add_argument("--clean-feed", action="store_true", help=CLEAN_FEED_HELP)


def cmd_init(args: argparse.Namespace) -> None:
    store_file = config.store_path(args.store)
    if store_file.exists():
        raise ConfigError(f"a store already exists at {store_file}; nothing to create")
    with store.connect(store_file):
        pass  # a writer creates the file and applies every migration
    print(f"created an empty store at {store_file} (schema {store.schema_version()})")


def cmd_status(args: argparse.Namespace) -> None:
    status = store.read_status(args.store)
    if args.json:
        print_json(status)
        return
    for key, value in status.items():
        print(f"{key:>18}: {value}")


def cmd_simulate(args: argparse.Namespace) -> None:
    from core.world import simulate

    summary = simulate.simulate_to_dir(
        out_dir=args.out,
        days=args.days,
        orders_per_day=args.orders_per_day,
        seed=args.seed,
        start=args.start,
        scenarios=args.scenario,
        clean_feed=args.clean_feed,
    )
    print_json(summary)


def cmd_ingest(args: argparse.Namespace) -> None:
    from core.ingest import landing
    from core.ingest.summary import format_summary

    since = store.utcnow()
    try:
        summary = landing.ingest_paths(args.paths, store_path=args.store)
    except JourneyOpsError as error:  # rejected files: the others were loaded, and go to the lake too
        if args.to_lake and hasattr(error, "summary"):
            _to_lake(args, error.summary, since)
        raise
    if args.to_lake:
        summary["lake"] = _to_lake(args, summary, since)
    if args.json:
        print_json(summary)
    else:
        print(format_summary(summary))
        if args.to_lake:
            rows = summary["lake"]["rows"]
            print(f"lake {args.to_lake}: {rows['events']} events and {rows['orders']} orders added")


def _to_lake(args: argparse.Namespace, summary: dict[str, Any], since: datetime) -> dict[str, Any]:
    """The rows this run loaded, through the same contract and quarantine, added to the lake."""
    from core.engine import lake

    loaded = [Path(f["path"]).name for f in summary["files"] if f["status"] == "loaded"]
    return lake.append_loaded(args.store, args.to_lake, loaded, since)


def cmd_import_log(args: argparse.Namespace) -> None:
    from core.ingest import log_import
    from core.ingest.summary import format_summary

    summary = log_import.import_log(
        args.path,
        store_path=args.store,
        case_col=args.case_col,
        activity_col=args.activity_col,
        time_col=args.time_col,
        lifecycle=args.lifecycle,
        tz=args.tz,
    )
    if args.json:
        print_json(summary)
    else:
        print(format_summary(summary))


def cmd_demo(args: argparse.Namespace) -> None:
    from core.jobs import closed_loop
    from core.views import stored

    store_file = config.store_path(args.store)
    if store_file.exists() and not args.fresh:
        raise ConfigError(
            f"a store already exists at {store_file}; pass --fresh to rebuild it, or --store for another path"
        )
    closed_loop.reset_store(store_file)
    # The closed-loop history: static promises, then go-live with a first champion, the model's ETAs
    # and a simulated triage team, and a drift scenario part-way (see core.jobs.closed_loop).
    outcome = closed_loop.build_demo_history(
        store_file,
        days=args.days,
        orders_per_day=args.orders_per_day,
        seed=args.seed,
        train=not args.skip_training,
        settings=closed_loop.demo_settings(),
        scenario=None if args.scenario == "none" else args.scenario,
        clean_feed=args.clean_feed,
    )
    stored.refresh_quietly(store_file)  # the heavy pages open on stored views
    print(store.read_status(store_file))
    print_json(outcome)
