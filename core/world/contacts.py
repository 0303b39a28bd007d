"""Customer contacts: customers ask where their order is once it is later than the ETA they were
shown, more often the later it gets; a small background rate of other questions runs regardless.

Each open order gets at most one contact a day, drawn from the part of the day it was late or open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.world.feed import contact_ids, order_ids
from core.world.orders import CANCEL_CODE, OpenOrders
from core.world.timeline import Clock


@dataclass(frozen=True)
class _Exposure:
    """Per open order: the hours of the day it was late or open, and its chance of a contact."""

    late_from: np.ndarray
    late_h: np.ndarray
    p_late: np.ndarray
    background_from: np.ndarray
    background_h: np.ndarray
    p_background: np.ndarray


def draw_contacts(
    rng: np.random.Generator,
    settings: Mapping[str, Any],
    clock: Clock,
    open_orders: OpenOrders,
    start_h: float,
    end_h: float,
) -> pd.DataFrame:
    """The day's contacts in feed columns; `settings` is the config's [contacts] section."""
    exposure = _exposure(settings, open_orders, start_h, end_h)
    n_orders = len(open_orders["gid"])
    uniform = rng.random(n_orders)
    late_hit = uniform < exposure.p_late
    background_hit = ~late_hit & (uniform < exposure.p_late + exposure.p_background)
    when = rng.random(n_orders)
    contact_ts = np.where(
        late_hit,
        exposure.late_from + when * exposure.late_h,
        exposure.background_from + when * exposure.background_h,
    )
    background_reason = _draw_background_reasons(rng, settings, n_orders)
    pos = np.flatnonzero(late_hit | background_hit)
    reason = np.where(late_hit[pos], "where_is_my_order", background_reason[pos])
    gids = open_orders["gid"][pos]
    seq = open_orders["n_contacts"][pos]
    open_orders["n_contacts"][pos] += 1
    contacts = pd.DataFrame(
        {
            "contact_id": contact_ids(gids, seq),
            "order_id": order_ids(gids),
            # A contact drawn at the very end of the day still belongs to it.
            "contact_at": clock.timestamps(np.minimum(contact_ts[pos], np.nextafter(end_h, start_h))),
            "reason": reason.astype(object),
        }
    )
    return contacts.sort_values(["contact_at", "contact_id"], kind="mergesort", ignore_index=True)


def _exposure(settings: Mapping[str, Any], open_orders: OpenOrders, start_h: float, end_h: float) -> _Exposure:
    # The part of the day each order was open (a closed order stops at its closing time).
    open_until = np.where(np.isnan(open_orders["closed_ts"]), end_h, np.minimum(open_orders["closed_ts"], end_h))
    cancelled = open_orders["state"] == CANCEL_CODE
    eta = open_orders["eta_ts"]
    late_from = np.maximum.reduce(
        [
            np.full(len(open_until), start_h),
            eta + float(settings["grace_h"]),
            open_orders["placed_ts"],
        ]
    )
    late_h = np.where(cancelled, 0.0, np.maximum(open_until - late_from, 0.0))
    # The later the order, the likelier a contact; each earlier contact changes the rate too.
    mid_late_days = np.maximum((late_from + open_until) / 2.0 - eta, 0.0) / 24.0
    rate = (
        np.minimum(
            float(settings["late_rate_per_day"]) * (1.0 + float(settings["late_slope_per_day"]) * mid_late_days),
            float(settings["late_max_rate_per_day"]),
        )
        * float(settings["repeat_factor"]) ** open_orders["n_contacts"]
    )
    # Background contacts: any open, not-late part of the day.
    background_from = np.maximum(start_h, open_orders["placed_ts"])
    background_end = np.minimum(open_until, np.maximum(eta, background_from))
    background_h = np.where(cancelled, 0.0, np.maximum(background_end - background_from, 0.0))
    return _Exposure(
        late_from=late_from,
        late_h=late_h,
        p_late=1.0 - np.exp(-rate * late_h / 24.0),
        background_from=background_from,
        background_h=background_h,
        p_background=1.0 - np.exp(-float(settings["background_rate_per_day"]) * background_h / 24.0),
    )


def _draw_background_reasons(rng: np.random.Generator, settings: Mapping[str, Any], n_orders: int) -> np.ndarray:
    """A reason per order, drawn from the configured background reasons and weights."""
    reasons = np.array(settings["background_reasons"], dtype=object)
    weights = np.array(settings["background_weights"], dtype=float)
    drawn = np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(n_orders), side="right")
    return reasons[drawn.clip(0, len(reasons) - 1)]
