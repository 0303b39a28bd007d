"""The at-risk list by e-mail: `list-mail --to a@x,b@y [--as-of D] [--dry-run]`."""

from __future__ import annotations

import argparse
import sys

from core.cli.common import add_command, print_json
from core.errors import ConfigError
from core.monitor.alerts import parse_day


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(
        subparsers,
        "list-mail",
        cmd_list_mail,
        "e-mail a morning's at-risk list: the top rows in the message, the whole list attached as Excel "
        "(SMTP from $JOURNEYOPS_SMTP_HOST and friends)",
    )
    p.add_argument(
        "--to", help="recipients, comma-separated (default: $JOURNEYOPS_LIST_MAIL_TO, the daily run's setting)"
    )
    p.add_argument("--as-of", help="the list's day, YYYY-MM-DD (default: the newest list)")
    p.add_argument("--top", type=int, default=10, help="rows shown in the message itself (default 10)")
    p.add_argument(
        "--dry-run", action="store_true", help="print the subject, the text and the attachment's size; send nothing"
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def cmd_list_mail(args: argparse.Namespace) -> int:
    from core.triage import mail, worklist

    if args.top < 1:
        raise ConfigError(f"--top {args.top}: show at least 1 row (the whole list is attached anyway)")
    recipients = mail.parse_recipients(args.to) if args.to else mail.configured_recipients()
    if args.as_of:
        as_of = parse_day(args.as_of, "--as-of")
    else:
        days = worklist.list_days(args.store)
        if not days:
            raise mail.NoListError("no at-risk list in the store yet; run `python -m core daily --as-of DATE` first")
        as_of = days[0]
    if args.dry_run:
        message = mail.build_message(as_of, args.store, top=args.top)
        if args.json:
            print_json(
                {
                    "subject": message.subject,
                    "recipients": len(recipients),
                    "text": message.text,
                    "attachment": message.attachment_name,
                    "attachment_bytes": len(message.attachment),
                    "sent": False,
                }
            )
            return 0
        print(f"Subject: {message.subject}")
        to = _count(len(recipients)) if recipients else "nobody yet (pass --to or set $JOURNEYOPS_LIST_MAIL_TO)"
        print(f"To: {to} (dry run: nothing sent)")
        print()
        print(message.text)
        print(f"Attachment: {message.attachment_name} ({len(message.attachment):,} bytes, {message.orders} orders)")
        return 0
    if not recipients:
        raise ConfigError("no recipients: pass --to a@example.com,b@example.com (or set $JOURNEYOPS_LIST_MAIL_TO)")
    settings = mail.smtp_settings()  # a missing server fails before the list is built
    delivery = mail.send_list(as_of, recipients, args.store, settings=settings, top=args.top)
    if args.json:
        print_json({"as_of": as_of, **vars(delivery)})
    elif delivery.ok:
        note = f" ({delivery.error})" if delivery.error else ""
        print(f"at-risk list of {as_of} sent to {_count(delivery.recipients)} via {settings.host}{note}")
    else:
        print(
            f"error: the at-risk list of {as_of} was not sent after {delivery.attempts} attempts: {delivery.error}",
            file=sys.stderr,
        )
    return 0 if delivery.ok else 1


def _count(recipients: int) -> str:
    return f"{recipients} recipient" + ("" if recipients == 1 else "s")
