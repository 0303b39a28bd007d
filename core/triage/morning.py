"""The triage morning: where each order of the shown list stood on the earlier mornings ("new since
yesterday", "on the list since …"), its place without holes, and what became of the orders the team
acted on (was the order fixed? — read from its later events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from core import store
from core.config import StorePath
from core.domain import CANCELLED, end_of_day

FOLLOW_UP_DAYS = 7
DELIVERED = "delivered"


def positions(listed: pd.DataFrame) -> pd.Series:
    """1, 2, 3 … down a shown list in its order: the place a person sees, with no holes where held-out
    orders sit in the stored rank."""
    return pd.Series(range(1, len(listed) + 1), index=listed.index, dtype="int64")


def streak_starts(history: pd.DataFrame, days: Sequence[date], as_of: date) -> dict[str, date]:
    """Per order on the `as_of` list: the first morning of its unbroken run of shown lists up to
    `as_of` (`history`: as_of_date, order_id rows; `days`: the mornings that had a list)."""
    mornings = sorted(d for d in days if d <= as_of)
    shown = {(pd.Timestamp(d).date(), o) for d, o in zip(history["as_of_date"], history["order_id"], strict=True)}
    starts: dict[str, date] = {}
    for order_id in sorted({o for d, o in shown if d == as_of}):
        start = as_of
        for morning in reversed(mornings[:-1] if mornings and mornings[-1] == as_of else mornings):
            if (morning, order_id) not in shown:
                break
            start = morning
        starts[order_id] = start
    return starts


def marker_text(start: date, as_of: date) -> str:
    """The marker of a listed order: "new" on its first morning, else "since <day>"."""
    return "new" if start == as_of else f"since {start:%a %d %b}"


def list_markers(as_of: date, days: Sequence[date], store_path: StorePath = None) -> pd.DataFrame:
    """Grain: order on the `as_of` shown list — on_list_since (date), days_on_list, new (not on the
    previous morning's list) and the marker text."""
    history = store.fetch_df("morning_list_history", {"as_of_date": as_of}, store_path)
    starts = streak_starts(history, days, as_of)
    return pd.DataFrame(
        {
            "order_id": list(starts),
            "on_list_since": list(starts.values()),
            "days_on_list": [(as_of - s).days + 1 for s in starts.values()],
            "new": [s == as_of for s in starts.values()],
            "marker": [marker_text(s, as_of) for s in starts.values()],
        },
        columns=["order_id", "on_list_since", "days_on_list", "new", "marker"],
    )


def outcome_text(later_events: int, latest_stage: str | None, listed_again: bool) -> str:
    """What became of an acted-on order since its list: delivered, cancelled, moved on, or not yet."""
    if latest_stage == DELIVERED:
        return "fixed: delivered"
    if latest_stage == CANCELLED:
        return "cancelled"
    if later_events and latest_stage:
        moved = f"moved on to {latest_stage.replace('_', ' ')}"
        return f"{moved}, still on the list" if listed_again else f"fixed: {moved}"
    return "no progress yet, still on the list" if listed_again else "no progress yet"


def action_outcomes(as_of: date, store_path: StorePath = None, days: int = FOLLOW_UP_DAYS) -> pd.DataFrame:
    """Grain: order acted on from a list of the `days` mornings before `as_of` — its action, what it did
    after that list was built up to the end of `as_of`, whether it is on the list again, and the outcome."""
    params = {"as_of_date": as_of, "since": as_of - timedelta(days=days), "until": end_of_day(as_of)}
    acted = store.fetch_df("morning_action_outcomes", params, store_path)
    acted["outcome"] = [
        outcome_text(int(n), None if pd.isna(s) else str(s), bool(again))
        for n, s, again in zip(acted["later_events"], acted["latest_stage"], acted["listed_again"], strict=True)
    ]
    acted["fixed"] = [text.startswith("fixed") for text in acted["outcome"]]
    return acted
