"""Monitoring commands: alerts."""

from __future__ import annotations

import argparse

from core.cli.common import add_command, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(subparsers, "alerts", cmd_alerts, "list stored alerts, newest day first")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--since", metavar="DATE", help="only alerts of this day (YYYY-MM-DD) or later")
    p.add_argument("--status", choices=("open", "acknowledged", "resolved"), help="only alerts with this status")


def cmd_alerts(args: argparse.Namespace) -> None:
    import duckdb

    from core.errors import JourneyOpsError
    from core.monitor import alert_store, alerts

    since = alerts.parse_day(args.since, "--since") if args.since else None
    try:
        frame = alert_store.read_alerts(since, args.store, status=args.status)
    except duckdb.CatalogException as exc:
        raise JourneyOpsError(
            "the store has no alerts table yet (an older schema); run the daily job once to migrate it"
        ) from exc
    records = alert_store.alert_records(frame)
    if args.json:
        print_json(records)
        return
    if not records:
        print("no alerts")
    for r in records:
        print(f"{r['as_of']}  {r['severity']:<8}  {r['status']:<12}  {r['rule']:<20}  {r['subject']}: {r['message']}")
