"""Commands of the daily cycle: daily, backfill, triage-list."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from core.cli.common import add_command, add_engine_arguments, print_json, refuse_spark_options, spark_conf
from core.errors import ConfigError
from core.monitor.alerts import parse_day

if TYPE_CHECKING:  # the jobs import scikit-learn; the commands import them when they run
    from core.jobs.daily import DayFeed


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "daily",
        cmd_daily,
        "run the daily cycle for a day: ingest, score, triage list, monitor, alert, maybe retrain",
    )
    p.add_argument("--as-of", required=True, help="the day, YYYY-MM-DD (scored as of its end)")
    p.add_argument("--no-retrain", action="store_true", help="do not start a retrain even if one is due")
    p.add_argument("--json", action="store_true", help="print the day's summary as JSON")
    add_engine_arguments(
        p,
        "duckdb: the whole cycle on the store (default); spark: the open orders' features and scores "
        "on Spark over --lake, the rest of the day on the driver, written to the store (no retrain started)",
    )
    p.add_argument(
        "--outputs", help="with --engine spark: a local folder for the day's Parquet outputs (default LAKE/outputs)"
    )

    p = add_command(subparsers, "backfill", cmd_backfill, "run the daily cycle over a range of days")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--no-retrain", action="store_true", help="do not start retrains on the way")
    p.add_argument("--json", action="store_true", help="print each day's summary as JSON")

    p = add_command(
        subparsers, "triage-list", cmd_triage_list, "the morning's triage list (held-out orders are never shown)"
    )
    p.add_argument("--as-of", help="the day, YYYY-MM-DD (default: the newest list)")
    p.add_argument("--json", action="store_true", help="print as JSON")


def _feed(args: argparse.Namespace) -> DayFeed | None:
    """A store fed by the simulated world is fed by stepping it (the closed loop); any other store by
    the files in its landing folder."""
    from core.jobs import closed_loop

    world = closed_loop.load_world(args.store)
    if world is None:
        return None
    return closed_loop.world_feed(
        world, args.store, closed_loop.landing_dir(args.store), closed_loop.world_state_file(args.store)
    )


def _line(day: dict[str, Any]) -> str:
    text = (
        f"{day['as_of_date']}: {day['open_orders']} open, {day['listed']} listed "
        f"({day['held_out']} held out), ETA {day['eta_source']}, {day['alerts']} alerts, {day['seconds']} s"
    )
    if day.get("retrain"):
        text += f"; retrain ({day['retrain']['reason']})"
    mailed = day.get("list_mail")
    if mailed and not mailed.get("skipped"):
        text += (
            f"; list mailed to {mailed['recipients']} recipients"
            if mailed["ok"]
            else f"; list mail failed ({mailed['error']})"
        )
    return text


def _refresh_views(args: argparse.Namespace) -> None:
    # The pages' heavy views, ready for the morning (a failure is logged; the pages then compute live).
    from core.views import stored

    stored.refresh_quietly(args.store)


def _daily_spark(args: argparse.Namespace, as_of: date) -> None:
    from core.engine.spark import command_session
    from core.jobs import daily_spark

    if not args.lake:
        raise ConfigError("daily --engine spark needs --lake PATH (the lake that `lake export` wrote)")
    if "://" in args.lake and args.outputs is None:
        raise ConfigError("with a lake in an object store, give --outputs DIR: a local or mounted folder to load from")
    daily_spark.check_ready(as_of, args.store, args.lake)
    with command_session(args.master, spark_conf(args)) as session:
        outcome = daily_spark.run_daily_spark(
            as_of, args.store, args.lake, session=session, outputs=args.outputs, pin_tables=args.pin_tables
        )
    _refresh_views(args)
    if args.json:
        print_json(outcome)
    else:
        print(f"{_line(outcome)}; features and scores ({', '.join(outcome['roles'])}) on Spark")
        if outcome["retrain_reason"]:
            print(f"a retrain is due ({outcome['retrain_reason']}): run `python -m core retrain --engine spark`")


def cmd_daily(args: argparse.Namespace) -> None:
    from core.jobs import closed_loop, daily

    as_of = parse_day(args.as_of, "--as-of")
    if args.engine == "spark":
        _daily_spark(args, as_of)
        return
    refuse_spark_options(args, ("lake", "outputs", "driver_memory"), "the DuckDB daily reads the store")
    outcome = daily.run_daily(
        as_of,
        args.store,
        landing_dir=closed_loop.landing_dir(args.store),
        retrain=not args.no_retrain,
        feed=_feed(args),
    )
    _refresh_views(args)
    if args.json:
        print_json(outcome)
    else:
        print(_line(outcome))


def cmd_backfill(args: argparse.Namespace) -> None:
    from core.jobs import closed_loop, daily

    days = daily.run_backfill(
        parse_day(args.start, "--from"),
        parse_day(args.end, "--to"),
        args.store,
        landing_dir=closed_loop.landing_dir(args.store),
        retrain=not args.no_retrain,
        feed=_feed(args),
    )
    _refresh_views(args)
    if args.json:
        print_json(days)
        return
    for day in days:
        print(_line(day))


def cmd_triage_list(args: argparse.Namespace) -> None:
    from core.triage import ranking

    as_of = parse_day(args.as_of, "--as-of") if args.as_of else None
    shown = ranking.read_triage_list(as_of, args.store)
    if args.json:
        print_json(ranking.list_records(shown))
        return
    if shown.empty:
        print("no triage list yet: run `python -m core daily --as-of DATE` after a champion is trained")
        return
    print(f"triage list of {shown['as_of_date'].iloc[0]:%Y-%m-%d} ({len(shown)} orders shown)")
    for row in ranking.list_records(shown):
        reasons = "; ".join(r["text"] for r in row["reasons"] or []) or "-"
        print(
            f"{row['rank']:>4}  {row['order_id']}  cost {row['expected_cost']:7.2f}  "
            f"p(stuck) {row['stuck_prob']:.2f}  ETA {str(row['eta_p50_at'])[:16]}  {reasons}"
        )
