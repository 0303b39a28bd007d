"""The weekly report command: `report weekly --week YYYY-Www [--out DIR] [--json]`."""

from __future__ import annotations

import argparse
import sys

from core.cli.common import add_command, print_json

DEFAULT_OUT = "reports"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "report",
        cmd_report,
        "the weekly report: an Excel workbook and an offline HTML page from one snapshot of the store",
    )
    p.add_argument("kind", choices=("weekly",), help="which report (weekly)")
    p.add_argument("--week", required=True, help="the ISO week, YYYY-Www (e.g. 2026-W09)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"folder to write into (default: {DEFAULT_OUT}/)")
    p.add_argument("--k", type=int, default=50, help="orders the triage team works a day (precision@k)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of the benefit ledger")
    p.add_argument("--json", action="store_true", help="print what was written and the summary figures as JSON")


def cmd_report(args: argparse.Namespace) -> None:
    from core.report import contents, weekly

    week = contents.parse_week(args.week)  # a bad --week fails before the store is touched
    written = weekly.write_weekly_report(
        week, args.out, args.store, k=args.k, n_boot=args.resamples, progress=sys.stderr.isatty() or not args.json
    )
    if args.json:
        print_json(written)
        return
    print(f"weekly report {written['week']} (outcomes judged at {written['as_of']})")
    print(f"  workbook: {written['workbook']}")
    print(f"  html:     {written['html']}")
