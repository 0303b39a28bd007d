"""The morning's triage list: open orders ranked by expected cost of delay, with a stable holdout.

Expected cost of delay = P(the order gets stuck) x what a stuck order costs for *this* order (a
missed stuck order, more for a valuable tier, plus the SLA breach of an express order), all from
`CostAssumptions` and `TriageSettings`. The would-be list is the top `list_size` orders; a fixed,
random-by-hash share of them is held out: recorded, never shown, so that realised benefit can be
measured against orders nobody acted on. The hash is of the order id and a fixed salt, so an order
is held out on every day it is listed, and the share does not depend on the day's list.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core import store
from core.config import StorePath
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.models.metrics import DEFAULT_TRIAGE_CAPACITY

SIM_ACTOR = "sim-triage"
ACTIONS: tuple[str, ...] = (
    "contacted_customer",
    "chased_warehouse",
    "chased_carrier",
    "expedited",
    "no_action",
    "false_alarm",
)
# What a triage agent does first about an order, by the stage it sits in.
ACTION_BY_STAGE: dict[str, str] = {
    "placed": "contacted_customer",
    "payment_confirmed": "chased_warehouse",
    "payment_hold": "contacted_customer",
    "address_query": "contacted_customer",
    "allocated": "chased_warehouse",
    "picked": "chased_warehouse",
    "packed": "chased_warehouse",
    "stock_shortage": "chased_warehouse",
    "shipped": "chased_carrier",
    "out_for_delivery": "chased_carrier",
    "carrier_exception": "chased_carrier",
}


@dataclass(frozen=True)
class TriageSettings:
    """How big the list is, how much of it is held out, and what a stuck order costs per segment."""

    capacity: int = DEFAULT_TRIAGE_CAPACITY  # orders the team works each morning
    holdout_share: float = 0.10
    holdout_salt: str = "journeyops-holdout-v1"  # change it and a different set of orders is held out
    tier_weight: Mapping[str, float] = field(default_factory=lambda: {"standard": 1.0, "plus": 1.25, "vip": 1.5})
    express_mode: str = "express"  # ship mode whose stuck orders also breach an SLA
    action_hour: float = 9.0  # the simulated team acts this many hours into the next morning

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ConfigError(f"triage capacity must be at least 1 order, got {self.capacity}")
        if not 0.0 <= self.holdout_share < 1.0:
            raise ConfigError(f"triage holdout share must be in [0, 1), got {self.holdout_share}; 0.1 holds out 10%")

    @property
    def list_size(self) -> int:
        """Orders on the would-be list, so that about `capacity` remain shown after the holdout."""
        return math.ceil(self.capacity / (1.0 - self.holdout_share))


def holdout_unit(order_ids: pd.Series, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per order id from sha256(salt:order_id): stable across days and runs."""
    digests = [hashlib.sha256(f"{salt}:{oid}".encode()).digest()[:8] for oid in order_ids.astype(str)]
    return np.array([int.from_bytes(d, "big") for d in digests], dtype=np.float64) / 2.0**64


def is_held_out(order_ids: pd.Series, settings: TriageSettings) -> np.ndarray:
    """Whether each order belongs to the holdout (the same answer on every day it is listed)."""
    return holdout_unit(order_ids, settings.holdout_salt) < settings.holdout_share


def stuck_cost(open_orders: pd.DataFrame, costs: CostAssumptions, settings: TriageSettings) -> pd.Series:
    """What a stuck order costs, per order: a missed stuck order weighted by tier, plus the SLA for express."""
    tier = open_orders.get("customer_tier", pd.Series(index=open_orders.index, dtype=object))
    weight = tier.map(dict(settings.tier_weight)).fillna(1.0).astype(float)
    mode = open_orders.get("ship_mode", pd.Series(index=open_orders.index, dtype=object))
    express = (mode == settings.express_mode).astype(float)
    return costs.missed_stuck_cost * weight + costs.sla_breach_cost * express


def shortlist(
    open_orders: pd.DataFrame,
    scores: pd.DataFrame,
    costs: CostAssumptions | None = None,
    settings: TriageSettings | None = None,
) -> pd.DataFrame:
    """The open orders (joined with their scores) that can make the list: every row whose expected cost
    reaches the `list_size`-th highest, ties included, so `build_triage_list` of them is the list of all."""
    costs = costs or CostAssumptions()
    settings = settings or TriageSettings()
    cost = scores["stuck_prob"].astype(float) * stuck_cost(open_orders, costs, settings)
    if cost.notna().sum() > settings.list_size:
        keep = (cost >= cost.nlargest(settings.list_size).iloc[-1]).to_numpy()
        return open_orders[keep].join(scores[keep])
    return open_orders.join(scores)


def build_triage_list(
    scored: pd.DataFrame,
    costs: CostAssumptions | None = None,
    settings: TriageSettings | None = None,
) -> pd.DataFrame:
    """The would-be list from scored open orders (order_id, stuck_prob, customer_tier, ship_mode, ...):
    the top `list_size` by expected cost, ranked 1.., with `held_out` set by the stable hash."""
    costs = costs or CostAssumptions()
    settings = settings or TriageSettings()
    if scored.empty:
        return scored.assign(
            expected_cost=pd.Series(dtype=float), rank=pd.Series(dtype=int), held_out=pd.Series(dtype=bool)
        )
    ranked = scored.assign(expected_cost=scored["stuck_prob"].astype(float) * stuck_cost(scored, costs, settings))
    # Ties (equal cost) break by order id, so the list is the same on every run.
    ranked = ranked.sort_values(["expected_cost", "order_id"], ascending=[False, True], kind="stable")
    listed = ranked.head(settings.list_size).reset_index(drop=True)
    listed["rank"] = np.arange(1, len(listed) + 1)
    listed["held_out"] = is_held_out(listed["order_id"], settings)
    return listed


def simulated_actions(
    triage_list: pd.DataFrame, as_of_date: date, as_of_at: datetime, settings: TriageSettings | None = None
) -> pd.DataFrame:
    """The simulated team's morning: the top `capacity` shown rows, one action each by current stage."""
    settings = settings or TriageSettings()
    shown = triage_list[~triage_list["held_out"].astype(bool)].sort_values("rank").head(settings.capacity)
    stage = shown.get("current_stage", pd.Series(index=shown.index, dtype=object))
    acted_at = pd.Timestamp(as_of_at) + timedelta(hours=settings.action_hour)
    ids = [
        hashlib.sha256(f"{as_of_date.isoformat()}|{oid}|{SIM_ACTOR}".encode()).hexdigest()[:16]
        for oid in shown["order_id"]
    ]
    return pd.DataFrame(
        {
            "action_id": ids,
            "order_id": shown["order_id"].to_numpy(),
            "as_of_date": as_of_date,
            "action": stage.map(ACTION_BY_STAGE).fillna("expedited").to_numpy(),
            "note": "simulated triage team (demo world)",
            "actor": SIM_ACTOR,
            "acted_at": acted_at,
        }
    )


def latest_list_day(as_of: date | None = None, store_path: StorePath = None) -> date | None:
    """The newest day with a triage list on or before `as_of` (any day when None)."""
    found = store.fetch_df("triage_latest_day", {"as_of_date": as_of}, store_path)
    value = found.loc[0, "as_of_date"] if len(found) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def read_triage_list(
    as_of: date | None = None,
    store_path: StorePath = None,
    *,
    include_held_out: bool = False,
) -> pd.DataFrame:
    """The list of a morning (the newest on or before `as_of`) as triage sees it: held-out rows are left
    out unless asked for (an analyst measuring benefit may; the triage page never does)."""
    day = latest_list_day(as_of, store_path)
    if day is None:
        return pd.DataFrame(
            columns=[
                "as_of_date",
                "rank",
                "order_id",
                "expected_cost",
                "stuck_prob",
                "held_out",
                "reasons",
                "eta_p10_at",
                "eta_p50_at",
                "eta_p90_at",
                "current_stage",
                "elapsed_h",
            ]
        )
    return store.fetch_df("triage_read_list", {"as_of_date": day, "include_held_out": include_held_out}, store_path)


def list_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """List rows as JSON-ready dicts (reasons parsed, timestamps ISO)."""

    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    for record in records:
        if isinstance(record.get("reasons"), str):
            record["reasons"] = json.loads(record["reasons"])
        if record.get("as_of_date"):
            record["as_of_date"] = str(record["as_of_date"])[:10]
    return records
