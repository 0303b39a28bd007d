"""What the product feeds back into the world each morning: the ETAs it showed customers, and the
orders triage acted on.

A shown ETA replaces the order's promise as the time customers judge lateness by. Triage helps
only an order that is genuinely stalling (silently or in an exception) and only if it acts before
the order would have moved anyway: then, with some probability, the order resumes within hours.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from core.world.orders import MIN_STEP_H, OpenOrders


def find_orders(open_orders: OpenOrders, order_ids: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the open orders of the given order ids (and which input rows matched)."""
    ids = pd.Series(list(order_ids), dtype=object)
    numbers = pd.to_numeric(ids.str.slice(1), errors="coerce").to_numpy(dtype=float)
    parsed = ~np.isnan(numbers)
    gid = open_orders["gid"]
    wanted = np.where(parsed, numbers, -1).astype(np.int64)
    # The open orders are sorted by gid, so a binary search finds each one.
    pos = np.minimum(np.searchsorted(gid, wanted), max(len(gid) - 1, 0))
    found = parsed & (len(gid) > 0)
    if len(gid):
        found &= gid[pos] == wanted
    return pos[found], found


def apply_shown_etas(open_orders: OpenOrders, eta_shown: Mapping[str, datetime], epoch: datetime) -> None:
    """Customers now judge lateness against the ETA they were shown."""
    if not len(open_orders["gid"]):
        return
    pos, found = find_orders(open_orders, eta_shown.keys())
    shown = pd.to_datetime(pd.Series(list(eta_shown.values())), utc=True)
    hours = (shown - pd.Timestamp(epoch)).dt.total_seconds().to_numpy() / 3600.0
    open_orders["eta_ts"][pos] = hours[found]


def apply_triage(
    rng: np.random.Generator,
    settings: Mapping[str, Any],
    open_orders: OpenOrders,
    triage_actions: Collection[str],
    start_h: float,
) -> None:
    """Let triage unstick the orders it acted on; `settings` is the config's [triage] section."""
    if not len(open_orders["gid"]):
        return
    pos, _ = find_orders(open_orders, triage_actions)
    pos = np.unique(pos)
    acted_at = start_h + float(settings["action_hour"])
    resume_low, resume_high = settings["resume_h"]
    # Triage can only speed up what is genuinely stalling, and only when it acts in time.
    eligible = pos[
        open_orders["stalling"][pos]
        & (open_orders["next_ts"][pos] > acted_at)
        & np.isnan(open_orders["closed_ts"][pos])
    ]
    fixed = rng.random(len(eligible)) < float(settings["fix_probability"])
    target = eligible[fixed]
    resume = acted_at + rng.uniform(float(resume_low), float(resume_high), len(target))
    open_orders["next_ts"][target] = np.maximum(
        np.minimum(open_orders["next_ts"][target], resume),
        open_orders["entered_ts"][target] + MIN_STEP_H,
    )
    open_orders["queued_since"][target] = open_orders["next_ts"][target]
    open_orders["stalling"][target] = False
