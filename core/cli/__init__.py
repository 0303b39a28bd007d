"""The command line: `python -m core <command>`.

Each area of the product registers its commands from its own module here (`common` holds what the
commands share); every command takes `--store PATH`. A `JourneyOpsError` becomes one line on stderr and a
non-zero exit code. What a command prints is cleaned of escape sequences (`terminal`); output cut
short by its reader (`| head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core.cli import api, benefits, daily, data, jobs, lake, mail, modeling, models, monitor, ops, report, views
from core.cli.common import require_store
from core.cli.terminal import CleanStream
from core.errors import JourneyOpsError


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    parser = argparse.ArgumentParser(prog="python -m core", description="JourneyOps command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (data, daily, mail, monitor, models, jobs, modeling, benefits, api, ops, report, views, lake):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    nul = next((f"--{k.replace('_', '-')}" for k, v in vars(args).items() if _holds_nul(v)), None)
    if nul is not None:
        # no shell passes one, and every path or name with one fails deep inside (embedded null byte)
        print(f"error: {nul} holds a NUL character; remove it", file=sys.stderr)
        return 2
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(stdout), CleanStream(stderr)  # type: ignore[assignment]
    try:
        require_store(args)
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except JourneyOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) has what it wanted; stdout goes nowhere from here on, so the
        # interpreter's final flush does not fail again.
        _silence(stdout)
        return 0
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return int(code or 0)


def _holds_nul(value: object) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str | os.PathLike) and "\x00" in os.fspath(v) for v in values)


def _silence(stream: object) -> None:
    try:
        fileno = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)
