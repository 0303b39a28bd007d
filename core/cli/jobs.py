"""Commands that run jobs: retrain."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from core.cli.common import add_command, add_engine_arguments, print_json, refuse_spark_options, spark_conf
from core.domain import check_day
from core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "retrain",
        cmd_retrain,
        "train both models, backtest, register, run the quality gate, promote if allowed",
    )
    p.add_argument("--as-of", help="train on what was known at this instant (default: everything stored)")
    p.add_argument("--actor", default="retrain", help="who asked for it (recorded in the audit log)")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_engine_arguments(
        p,
        "where the training prefixes are built and sampled: the store (default) or Spark over --lake; "
        "the models are fitted, gated and registered here either way",
    )


def parse_instant(text: str | None) -> datetime | None:
    """A YYYY-MM-DD or ISO instant from the command line (UTC), or None."""
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise ConfigError(f"--as-of {text!r} is not a date; write it as YYYY-MM-DD") from exc
    check_day(instant.date(), "--as-of")
    return instant


def _retrain_on_spark(args: argparse.Namespace, as_of: datetime | None) -> dict[str, Any]:
    from core.engine.spark import SparkEngine, command_session
    from core.jobs import daily_spark, retraining

    if not args.lake:
        raise ConfigError("retrain --engine spark needs --lake PATH (the lake that `lake export` wrote)")
    daily_spark.check_lake(args.lake)
    with command_session(args.master, spark_conf(args)) as session:
        engine = SparkEngine(session, args.lake, pin_tables=args.pin_tables)
        try:
            return retraining.retrain(args.store, as_of=as_of, actor=args.actor, engine=engine)
        finally:
            engine.drop_temp_views()


def cmd_retrain(args: argparse.Namespace) -> None:
    from core.jobs import retraining

    as_of = parse_instant(args.as_of)
    if args.engine == "spark":
        outcome = _retrain_on_spark(args, as_of)
    else:
        refuse_spark_options(args, ("lake", "driver_memory"), "the DuckDB retrain reads the store")
        outcome = retraining.retrain(args.store, as_of=as_of, actor=args.actor)
    if args.json:
        print_json(outcome)
        return
    for kind, result in outcome["versions"].items():
        print(f"{kind}: {result['version']} is {result['status']}")
        for reason in result["gate_reasons"]:
            print(f"    {reason}")
