"""What every command shares: its parser with `--store`, the check of that store, and JSON output."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any

from core import config
from core.errors import ConfigError, StoreInvalidError, StoreMissingError

Handler = Callable[[argparse.Namespace], int | None]
# Commands that may start from no store: they create one (demo, init), put one in place (restore),
# or do not open one (simulate, benchmark-log uses a temporary store, healthcheck of a server).
# `lake features` reads only the lake; `lake export` opens its store read-only, which refuses a missing one.
CREATES_OR_NEEDS_NO_STORE = frozenset({"demo", "init", "restore", "simulate", "benchmark-log", "healthcheck", "lake"})


def require_store(args: argparse.Namespace) -> None:
    """Refuse a --store that is a folder, and a missing store for a command that does not create one.

    A mistyped path on a write command would otherwise create a new, empty store silently.
    """
    if not hasattr(args, "store"):
        return
    path = config.store_path(args.store)
    if path.is_dir():
        raise StoreInvalidError(f"{path} is a folder, not a store file; pass --store PATH of a .duckdb file")
    if args.command in CREATES_OR_NEEDS_NO_STORE or path.exists():
        return
    raise StoreMissingError(
        f"no store at {path}; create one with `python -m core init --store {path}` "
        "(or build the demo with `python -m core demo`), or pass --store PATH of an existing store"
    )


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help_text: str,
) -> argparse.ArgumentParser:
    """A subcommand with the options every command shares."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "--store", metavar="PATH", help="DuckDB store (default: $JOURNEYOPS_STORE or data/journeyops.duckdb)"
    )
    parser.set_defaults(handler=handler)
    return parser


def add_engine_arguments(parser: argparse.ArgumentParser, engine_help: str) -> None:
    """--engine and the Spark options a command shares with the others that can run on Spark."""
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb", help=engine_help)
    parser.add_argument("--lake", help="with --engine spark: the lake folder (or s3a://bucket/prefix on a cluster)")
    parser.add_argument("--master", default="local[*]", help="with --engine spark: the Spark master (default local[*])")
    parser.add_argument(
        "--pin-tables",
        action="store_true",
        help="with --engine spark: read the lake once and keep it on the executors (a lake of many day folders)",
    )
    add_driver_memory_argument(parser, "with --engine spark: ")


def add_driver_memory_argument(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """--driver-memory, read by `spark_conf` (every command that starts a Spark session has it)."""
    parser.add_argument(
        "--driver-memory",
        metavar="SIZE",
        help=f"{prefix}the driver's JVM heap, e.g. 4g (default: Spark's 1g; in local mode the "
        "driver runs the executors too, and ≈10 M events needed 4g)",
    )


_JVM_SIZE = re.compile(r"[1-9][0-9]*[kmgt]?", re.IGNORECASE)


def spark_conf(args: argparse.Namespace) -> dict[str, str]:
    """The Spark settings a command's options give (--driver-memory), checked before the JVM starts."""
    memory = getattr(args, "driver_memory", None)
    if memory is None:
        return {}
    if not _JVM_SIZE.fullmatch(memory):
        raise ConfigError(f"--driver-memory {memory!r} is not a size: give a number with k, m, g or t, e.g. 4g")
    return {"spark.driver.memory": memory}


def refuse_spark_options(args: argparse.Namespace, names: tuple[str, ...], reads: str) -> None:
    """A ConfigError when options of --engine spark are given to a DuckDB run (which `reads` something else)."""
    given = [f"--{name.replace('_', '-')}" for name in names if getattr(args, name, None)]
    if given:
        raise ConfigError(f"{', '.join(given)} is for --engine spark; {reads}")


def print_json(payload: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(payload, indent=2, default=str, sort_keys=True))
