"""Commands for the model registry: models, promote, rollback, reject, model-audit."""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime

from core.cli.common import add_command, print_json
from core.domain import MODEL_KINDS, check_day
from core.errors import ConfigError
from core.registry import promotion
from core.registry import versions as registry


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(subparsers, "models", cmd_models, "registered model versions, their status and metrics")
    p.add_argument("--kind", choices=MODEL_KINDS, help="only this kind of model")
    p.add_argument("--json", action="store_true", help="print as JSON")

    p = add_command(subparsers, "promote", cmd_promote, "make a version champion (or approve a pending one)")
    p.add_argument("version", metavar="VERSION", help="e.g. forecaster-v3")
    p.add_argument("--reason", required=True, help="why: recorded in the audit log")
    p.add_argument("--actor", default=_default_actor(), help="who (default: $USER or 'cli')")
    p.add_argument(
        "--expect-champion",
        metavar="VERSION",
        help="refuse unless this is still the champion ('none' for no champion); default: the champion now",
    )
    p.add_argument("--force", action="store_true", help="promote even a version the quality gate rejected")
    p.add_argument("--json", action="store_true", help="print the new champion as JSON")

    p = add_command(subparsers, "rollback", cmd_rollback, "put back the previous champion, or the one live on a date")
    p.add_argument("--kind", choices=MODEL_KINDS, required=True)
    p.add_argument("--to-date", metavar="YYYY-MM-DD", help="the version that was champion at the end of this day (UTC)")
    p.add_argument("--reason", required=True, help="why: recorded in the audit log")
    p.add_argument("--actor", default=_default_actor(), help="who (default: $USER or 'cli')")
    p.add_argument("--json", action="store_true", help="print the new champion as JSON")

    p = add_command(subparsers, "reject", cmd_reject, "decline a version awaiting approval")
    p.add_argument("version", metavar="VERSION")
    p.add_argument("--reason", required=True, help="why: recorded in the audit log")
    p.add_argument("--actor", default=_default_actor(), help="who (default: $USER or 'cli')")

    p = add_command(subparsers, "model-audit", cmd_model_audit, "who changed which champion, when and why")
    p.add_argument("--kind", choices=MODEL_KINDS)
    p.add_argument("--json", action="store_true", help="print as JSON")

    # `retrain [--json]` lives in core/cli/jobs.py (core.jobs.retraining.retrain): it scores challenger, champion
    # and baseline on the same holdout, calls gate.evaluate_gate, then registration.register_and_gate.


def cmd_models(args: argparse.Namespace) -> None:
    versions = registry.list_versions(args.kind, args.store)
    if args.json:
        print_json(
            {
                "champions": {v.kind: v.version_id for v in versions if v.is_champion},
                "serving": {v.kind: registry.serving_summary(v) for v in versions if v.is_champion},
                "versions": [v.to_dict() for v in versions],
            }
        )
        return
    if not versions:
        print("no model versions yet; train with `python -m core retrain`")
        return
    for v in versions:
        cost = (v.evaluation or {}).get("business_cost")
        cost_text = "-" if cost is None else f"{cost:.4f}"
        flag = "*" if v.is_champion else " "
        print(
            f"{flag} {v.version_id:<24} {v.status:<17} created {v.created_at:%Y-%m-%d %H:%M}  holdout cost {cost_text}"
        )


def cmd_promote(args: argparse.Namespace) -> None:
    if args.expect_champion is None:
        current = registry.get_champion(registry.get_version(args.version, args.store).kind, args.store)
        expected = current.version_id if current else None
    else:
        expected = None if args.expect_champion.lower() == "none" else args.expect_champion
    version = promotion.promote(
        args.version,
        actor=args.actor,
        reason=args.reason,
        expected_champion=expected,
        store_path=args.store,
        force=args.force,
    )
    _report(version, args.json, f"{version.version_id} is now the {version.kind} champion (was {expected or 'none'})")


def cmd_rollback(args: argparse.Namespace) -> None:
    to_date = _parse_date(args.to_date) if args.to_date else None
    version = promotion.rollback(
        args.kind, actor=args.actor, reason=args.reason, to_date=to_date, store_path=args.store
    )
    _report(version, args.json, f"rolled back: {version.version_id} is the {version.kind} champion again")


def cmd_reject(args: argparse.Namespace) -> None:
    version = promotion.reject(args.version, actor=args.actor, reason=args.reason, store_path=args.store)
    print(f"{version.version_id} rejected")


def cmd_model_audit(args: argparse.Namespace) -> None:
    rows = registry.audit_log(args.store, kind=args.kind)
    if args.json:
        print_json(rows)
        return
    if not rows:
        print("no champion changes yet")
    for row in rows:
        print(
            f"{row['acted_at']:%Y-%m-%d %H:%M:%S}  {row['action']:<8} {row['version_id']:<24} "
            f"(was {row['previous_version_id'] or 'none'}) by {row['actor']}: {row['reason']}"
        )


def _report(version: registry.ModelVersion, as_json: bool, text: str) -> None:
    if as_json:
        print_json(version.to_dict())
    else:
        print(text)


def _parse_date(text: str) -> date:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ConfigError(f"--to-date {text!r} is not a date; use YYYY-MM-DD") from exc
    return check_day(day, "--to-date")


def _default_actor() -> str:
    return os.environ.get("USER") or "cli"
