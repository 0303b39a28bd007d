"""What every command shares: its parser with `--store`, and JSON output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

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
