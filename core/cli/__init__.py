"""The command line: `python -m core <command>`.

Each area of the product registers its commands from its own module here; every command takes
`--store PATH`. A `JourneyOpsError` becomes one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import JourneyOpsError

Handler = Callable[[argparse.Namespace], int | None]


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


def print_json(payload: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(payload, indent=2, default=str, sort_keys=True))


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    from core.cli import (
        api,
        benefits,
        daily,
        data,
        jobs,
        modeling,
        models,
        monitor,
        ops,
        report,
        views,
    )

    parser = argparse.ArgumentParser(prog="python -m core", description="JourneyOps command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (data, daily, monitor, models, jobs, modeling, benefits, api, ops, report, views):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except JourneyOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
