"""Materialised page views: `views refresh` (the daily job runs it too) and `views list`."""

from __future__ import annotations

import argparse
import sys

from core.cli.common import add_command, print_json
from core.monitor.alerts import parse_day


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "views",
        cmd_views,
        "materialised views of the heavy pages: compute and store them (refresh) or list them",
    )
    p.add_argument("action", choices=("refresh", "list"))
    p.add_argument("--as-of", help="the day, YYYY-MM-DD (default: the latest day with events, the pages' default)")
    p.add_argument("--json", action="store_true", help="print as JSON")


def cmd_views(args: argparse.Namespace) -> None:
    from core.views import stored as views
    from core.views import view_files

    if args.action == "list":
        stored = view_files.stored_views(args.store)
        if args.json:
            print_json(stored)
            return
        for m in stored:
            print(f"{m['view']:<9} {m['params']}  computed {m['computed_at']} in {m['seconds']} s")
        return
    as_of = parse_day(args.as_of, "--as-of") if args.as_of else None
    seconds = views.refresh(args.store, as_of, progress=sys.stderr.isatty() and not args.json)
    if args.json:
        print_json({"views": seconds, "seconds": round(sum(seconds.values()), 3)})
        return
    if not seconds:
        print("no events in the store yet: nothing to materialise")
        return
    for name, took in seconds.items():
        print(f"{name:<24} {took:8.2f} s")
    print(f"{len(seconds)} views stored in {view_files.views_dir(args.store)} ({sum(seconds.values()):.1f} s)")
