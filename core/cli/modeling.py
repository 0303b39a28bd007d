"""Commands for the models: benchmark-log (the literature's hold-out protocol on any event log) and
model-report (backtest the demo world and write docs/forecasting.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import add_command, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "benchmark-log",
        cmd_benchmark_log,
        "remaining-time hold-out benchmark on an event log (XES, CSV or Parquet) in a temporary store",
    )
    p.add_argument("path", type=Path)
    p.add_argument("--case-col", help="column with the case id (default: case:concept:name or case_id)")
    p.add_argument("--activity-col", help="column with the activity (default: concept:name or activity)")
    p.add_argument("--time-col", help="column with the timestamp (default: time:timestamp or timestamp)")
    p.add_argument(
        "--lifecycle",
        default="auto",
        help="which lifecycle:transition to keep: auto (default: complete, else the word that ends an "
        "activity, else all events; the rule applied is printed), all, or a word",
    )
    p.add_argument("--max-cases", type=int, help="only the first N cases by start (a quick look)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    p = add_command(
        subparsers,
        "model-report",
        cmd_model_report,
        "backtest both models on the store and the benchmark logs; write the figures to docs/forecasting.md",
    )
    p.add_argument("--out", type=Path, default=None, help="markdown file (default: docs/forecasting.md)")
    p.add_argument("--log", type=Path, action="append", default=[], help="also benchmark this log (repeatable)")
    p.add_argument("--max-rows", type=int, default=None, help="cap on training prefixes (default: 150,000)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")


def cmd_benchmark_log(args: argparse.Namespace) -> None:
    from core.models import benchmark_log

    result = benchmark_log.benchmark_log(
        args.path,
        case_col=args.case_col,
        activity_col=args.activity_col,
        time_col=args.time_col,
        lifecycle=args.lifecycle,
        max_cases=args.max_cases,
    )
    if args.json:
        print_json(result)
        return
    print(benchmark_log.format_result(result))


def cmd_model_report(args: argparse.Namespace) -> None:
    from core import config
    from core.models import report

    out = args.out or config.REPO_ROOT / "docs" / "forecasting.md"
    figures = report.write_model_report(config.store_path(args.store), out, logs=args.log, max_rows=args.max_rows)
    if args.json:
        print_json(figures)
    print(f"wrote {out}")
