"""The command line: `python -m core <command>`.

Each area of the product registers its commands from its own module here (`common` holds what the
commands share); every command takes `--store PATH`. A `JourneyOpsError` becomes one line on stderr and a
non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import api, benefits, daily, data, jobs, lake, modeling, models, monitor, ops, report, views
from core.errors import JourneyOpsError


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    parser = argparse.ArgumentParser(prog="python -m core", description="JourneyOps command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (data, daily, monitor, models, jobs, modeling, benefits, api, ops, report, views, lake):
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
