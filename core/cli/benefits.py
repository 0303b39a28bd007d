"""Benefit, accuracy and assumption commands: `benefits`, `accuracy`, `assumptions show|set`."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Literal

from core.cli.common import add_command, print_json
from core.domain import check_day
from core.errors import ConfigError, JourneyOpsError

MAX_RECOVERY_WEEKS = 520  # ten years of mornings; more overflows the date arithmetic


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "benefits",
        cmd_benefits,
        "the benefit ledger by ISO week: against the baseline, treated vs held out, targets",
    )
    p.add_argument("--json", action="store_true", help="print the ledger and the holdout comparison as JSON")
    p.add_argument("--weeks", type=int, help="only the last N weeks")
    p.add_argument("--as-of", help="judge outcomes as of this day, YYYY-MM-DD (default: the last event)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")

    _register_recovery(subparsers)
    p = add_command(
        subparsers,
        "accuracy",
        cmd_accuracy,
        "forecast accuracy and triage precision: realised on matured forecasts, estimated apart",
    )
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--as-of", help="judge forecasts as of this day, YYYY-MM-DD (default: the last event)")
    p.add_argument("--since", help="only forecasts of this morning, YYYY-MM-DD, or later")
    p.add_argument("--k", type=int, default=50, help="orders the triage team works a day (precision@k)")

    p = add_command(
        subparsers,
        "assumptions",
        cmd_assumptions,
        "show or set the benefit cost assumptions (or targets), kept with their history",
    )
    p.add_argument("action", choices=("show", "set"))
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="fields to set (VALUE 'none' clears a target)")
    p.add_argument("--targets", action="store_true", help="the benefit targets instead of the cost assumptions")
    p.add_argument("--reason", help="why they change (required by set)")
    p.add_argument("--actor", help="who changes them (default: the login name)")
    p.add_argument("--at", help="show them as they stood on this day, YYYY-MM-DD")
    p.add_argument("--history", action="store_true", help="show every saved revision")
    p.add_argument("--json", action="store_true", help="print as JSON")


def _register_recovery(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(
        subparsers,
        "recovery",
        cmd_recovery,
        "did the loop recover? live accuracy over the matured mornings of the last weeks, "
        "beside a model refit in hindsight on the same forecasts",
    )
    p.add_argument("--weeks", type=int, default=3, help="the last N weeks of mornings (default 3)")
    p.add_argument("--as-of", help="judge forecasts as of this day, YYYY-MM-DD (default: the last event)")
    p.add_argument(
        "--no-hindsight",
        action="store_true",
        help="skip the hindsight refit (it trains six models: one per group of orders, and one in-sample)",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=20_000,
        help="training rows of the hindsight refit (default 20000, the demo's retrain budget)",
    )
    p.add_argument(
        "--max-iter",
        type=int,
        default=100,
        help="boosting rounds of the hindsight refit (default 100, the demo's retrain budget)",
    )
    p.add_argument("--json", action="store_true", help="print as JSON")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD") from exc
    return check_day(day, option)


@contextmanager
def _current_schema() -> Iterator[None]:
    """A store from before the daily job's tables, opened read-only, is never migrated."""
    import duckdb

    try:
        yield
    except duckdb.CatalogException as exc:
        raise JourneyOpsError(
            f"the store has no {str(exc).split('Table with name ')[-1].split(' ')[0]} table yet (an older schema); "
            "run the daily job once to migrate it"
        ) from exc


def cmd_benefits(args: argparse.Namespace) -> None:
    from core.monitor import benefits

    with _current_schema():
        report = benefits.benefits_report(
            args.store, as_of=_day(args.as_of, "--as-of"), weeks=args.weeks, n_boot=args.resamples, seed=args.seed
        )
    if args.json:
        print_json(report)
        return
    print(f"as of {report['as_of']}  go-live {report['go_live_date'] or 'not yet'}")
    for week in report["ledger"]:  # type: ignore[attr-defined]
        figures = {f["metric"]: f for f in week["figures"]}
        total = figures["total_value_eur"]
        contacts = figures["contacts_per_1000_orders"]
        ci = (
            ""
            if total["value_ci_low_eur"] is None
            else f" (95% CI {total['value_ci_low_eur']:.0f}..{total['value_ci_high_eur']:.0f})"
        )
        value = "-" if total["value"] is None else f"{total['value']:.0f} EUR{ci}"
        rate = "-" if contacts["value"] is None else f"{contacts['value']:.1f}"
        print(
            f"{week['iso_week']}  {week['period']:<8}  contacts/1000 {rate:>7}  "
            f"caught early {figures['stuck_caught_early']['value'] or 0:>4.0f}  value {value}"
        )


def cmd_accuracy(args: argparse.Namespace) -> None:
    from core.monitor import accuracy

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1, got {args.k}")
    with _current_schema():
        overview = accuracy.accuracy_overview(
            args.store, as_of=_day(args.as_of, "--as-of"), since=_day(args.since, "--since"), k=args.k
        )
    if args.json:
        print_json(overview)
        return
    print(f"as of {overview['as_of']}")
    for part in ("forecast", "triage"):
        for label, figures in overview[part].items():  # type: ignore[attr-defined]
            shown = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
            print(f"{part:<8} {label:<9} {shown}")


def cmd_recovery(args: argparse.Namespace) -> None:
    from core.monitor import recovery

    if not 1 <= args.weeks <= MAX_RECOVERY_WEEKS:
        raise ConfigError(f"--weeks must be from 1 to {MAX_RECOVERY_WEEKS}, got {args.weeks}")
    with _current_schema():
        report = recovery.recovery_report(
            args.store,
            weeks=args.weeks,
            as_of=_day(args.as_of, "--as-of"),
            hindsight=not args.no_hindsight,
            max_rows=args.max_rows,
            model_params={"max_iter": args.max_iter},
            progress=sys.stderr.isatty() and not args.json,
        )
    if args.json:
        print_json(report)
        return
    print(recovery.format_report(report))


def _parse_values(pairs: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"cannot read {pair!r}; write fields as NAME=VALUE, e.g. contact_cost=6.5")
        values[name.strip()] = None if value.strip().lower() in ("none", "") else value.strip()
    return values


def cmd_assumptions(args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from core.monitor import assumptions

    kind: Literal["costs", "targets"] = "targets" if args.targets else "costs"
    if args.action == "set":
        if not args.values:
            raise ConfigError("assumptions set needs at least one NAME=VALUE")
        save = assumptions.save_targets if args.targets else assumptions.save_assumptions
        saved = save(
            _parse_values(args.values),
            actor=args.actor or getpass.getuser(),
            reason=args.reason or "",
            store_path=args.store,
        )
        payload: object = asdict(saved)
    elif args.history:
        payload = assumptions.assumption_history(kind, args.store).to_dict("records")
    else:
        load = assumptions.load_targets if args.targets else assumptions.load_assumptions
        payload = asdict(load(args.store, at=_day(args.at, "--at")))
    if args.json:
        print_json(payload)
        return
    if isinstance(payload, dict):
        for name, value in payload.items():
            print(f"{name:<30} {'-' if value is None else value}")
    else:
        for row in payload:  # type: ignore[attr-defined]
            print(
                f"r{row['revision']}  {row['saved_at']}  {row['actor']:<10} {row['name']:<28} "
                f"{row['value']}  ({row['reason']})"
            )
