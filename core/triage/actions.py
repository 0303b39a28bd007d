"""Triage actions from the dashboard: checked on the server (role, action name, note, list), kept with
who and when, and idempotent so a double click records one action."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from core import store
from core.access import roles
from core.config import StorePath
from core.errors import ConfigError
from core.triage import ranking, worklist

ACTIONS: tuple[str, ...] = ranking.ACTIONS
MAX_NOTE_CHARS = 500


@dataclass(frozen=True)
class RecordedAction:
    """One action as stored, and whether this call created it (False: it was there already)."""

    action_id: str
    order_id: str
    as_of_date: date
    action: str
    note: str
    actor: str
    acted_at: datetime
    created: bool


def action_id(order_id: str, as_of_date: date, action: str, note: str, actor: str) -> str:
    """A stable id: the same action, note and actor on the same list is the same action (a double click)."""
    key = "\x1f".join((order_id, as_of_date.isoformat(), action, note, actor))
    return "ui-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def record_action(
    user: roles.User,
    order_id: str,
    as_of_date: date,
    action: str,
    note: str,
    store_path: StorePath = None,
    *,
    now: datetime | None = None,
) -> RecordedAction:
    """Record what triage did about an order on a morning's list; refused unless the role may and the
    order is on that morning's shown list."""
    roles.require(user, "record_triage_action")
    if action not in ACTIONS:
        raise ConfigError(f"unknown triage action {action!r}; use one of {', '.join(ACTIONS)}")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ConfigError(f"the note has {len(note)} characters; keep it to {MAX_NOTE_CHARS}")
    if not worklist.is_listed(order_id, as_of_date, store_path):
        raise ConfigError(f"order {order_id!r} is not on the list of {as_of_date.isoformat()}; pick an order from it")
    new_id = action_id(order_id, as_of_date, action, note, user.actor)
    with store.transaction(store_path) as con:
        inserted = con.execute(
            store.load_sql("actions_insert"),
            {
                "action_id": new_id,
                "order_id": order_id,
                "as_of_date": as_of_date,
                "action": action,
                "note": note,
                "actor": user.actor,
                "acted_at": now or store.utcnow(),
            },
        ).fetchone()
        row = con.execute(store.load_sql("actions_by_id"), {"action_id": new_id}).df().iloc[0]
    created = bool(inserted and inserted[0])
    return RecordedAction(
        action_id=new_id,
        order_id=order_id,
        as_of_date=as_of_date,
        action=action,
        note=note,
        actor=str(row["actor"]),
        acted_at=row["acted_at"].to_pydatetime(),
        created=created,
    )
