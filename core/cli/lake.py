"""Commands for the Spark path: lake export (the store's events and orders as partitioned Parquet),
lake features (the point-in-time features computed by Spark over a lake) and lake load (a day's
Spark outputs into the store)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from core.cli.common import add_command, add_driver_memory_argument, print_json, spark_conf


def _no_action(args: argparse.Namespace) -> None:  # pragma: no cover - argparse requires an action
    raise SystemExit(2)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(subparsers, "lake", _no_action, "the Parquet lake that the Spark engine reads")
    actions = p.add_subparsers(dest="lake_action", metavar="ACTION", required=True)

    export = actions.add_parser("export", help="write the store's events (by event day) and orders as Parquet")
    export.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help="DuckDB store to export")
    export.add_argument("--lake", required=True, help="lake folder")
    export.add_argument("--replace", action="store_true", help="write over an existing lake")
    export.set_defaults(handler=cmd_lake_export)

    feats = actions.add_parser("features", help="point-in-time features on Spark over a lake, to a Parquet file")
    feats.add_argument("--lake", required=True, help="lake folder (or s3a://bucket/prefix on a cluster)")
    feats.add_argument("--as-of", type=date.fromisoformat, help="day (its end); default: the last event")
    feats.add_argument("--mode", choices=("single", "events", "snapshots"), default="single")
    feats.add_argument("--out", type=Path, required=True, help="Parquet file for the feature rows")
    feats.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    add_driver_memory_argument(feats)
    feats.set_defaults(handler=cmd_lake_features)

    load = actions.add_parser(
        "load", help="load a day's Spark outputs (Parquet) into the store in one transaction; twice changes nothing"
    )
    load.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help="DuckDB store to load into")
    load.add_argument("--outputs", type=Path, required=True, help="the outputs folder of `daily --engine spark`")
    load.add_argument("--as-of", required=True, help="the day, YYYY-MM-DD")
    load.set_defaults(handler=cmd_lake_load)


def cmd_lake_export(args: argparse.Namespace) -> None:
    from core.engine import lake

    print_json(lake.export(args.store, args.lake, replace=args.replace))


def cmd_lake_features(args: argparse.Namespace) -> None:
    from core import features
    from core.engine.spark import SparkEngine, command_session

    with command_session(args.master, spark_conf(args)) as session:
        frame = features.build_prefix_features(
            engine=SparkEngine(session, args.lake),
            mode=args.mode,
            as_of=args.as_of,
            with_targets=args.mode != "single",
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.out, index=False)
    print_json({"rows": len(frame), "columns": frame.shape[1], "out": str(args.out), "engine": "spark"})


def cmd_lake_load(args: argparse.Namespace) -> None:
    from core.jobs import daily_spark, runs
    from core.monitor.alerts import parse_day

    as_of = parse_day(args.as_of, "--as-of")
    with runs.job_run("lake_load", {"as_of": as_of.isoformat(), "outputs": str(args.outputs)}, args.store) as run:
        loaded = daily_spark.load_day_outputs(args.outputs, as_of, args.store)
        run.figures.update(loaded)
    print_json(loaded)
