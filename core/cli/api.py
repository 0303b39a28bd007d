"""Commands for the serving API's tokens: token create, token revoke, token list."""

from __future__ import annotations

import argparse
import sys

from core.access import auth
from core.cli.common import add_command, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = add_command(subparsers, "token", _no_action, "API tokens: create (shown once), revoke, list")
    actions = p.add_subparsers(dest="token_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="a new token; it is printed once and only its hash is kept")
    create.add_argument("--role", required=True, choices=auth.ROLES, help="reader < scorer < admin")
    create.add_argument("--name", help="who or what will hold it")
    create.add_argument("--json", action="store_true", help="print the token and its record as JSON")
    create.set_defaults(handler=cmd_token_create)

    revoke = actions.add_parser("revoke", help="end a token: from now on it gets 401")
    revoke.add_argument("token_id", metavar="ID", help="e.g. tok_1a2b3c4d (see `token list`)")
    revoke.set_defaults(handler=cmd_token_revoke)

    listing = actions.add_parser("list", help="every token's id, name, role and dates (never the token)")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(handler=cmd_token_list)

    for sub in (create, revoke, listing):
        # Accepted after the action too; SUPPRESS keeps a --store given before it.
        sub.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help="DuckDB store")


def _no_action(args: argparse.Namespace) -> int:
    return 2


def cmd_token_create(args: argparse.Namespace) -> None:
    record, token = auth.create_token(args.role, args.name, args.store)
    if args.json:
        print_json({"token": token, **record.to_dict()})
        return
    print(f"token {record.token_id} ({record.role}) created; it is shown only now, keep it secret:", file=sys.stderr)
    print(token)


def cmd_token_revoke(args: argparse.Namespace) -> None:
    record = auth.revoke_token(args.token_id, args.store)
    print(f"token {record.token_id} ({record.role}) revoked at {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def cmd_token_list(args: argparse.Namespace) -> None:
    records = auth.list_tokens(args.store)
    if args.json:
        print_json([r.to_dict() for r in records])
        return
    if not records:
        print("no tokens; create one with `python -m core token create --role reader`")
        return
    for r in records:
        state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
        print(f"{r.token_id}  {r.role:<7} {state:<24} created {r.created_at:%Y-%m-%d %H:%M}  {r.name or ''}")
