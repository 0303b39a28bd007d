"""The stage machine: moves open orders through their due transitions for one day.

Within a day the machine loops over waves of transitions, never over orders: each wave first hands
out capacity slots to orders waiting for one, then fires every transition due before the day ends,
records it as an event and draws the order's next step. It stops when nothing more is due today.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.world.capacity import RESOURCE_KINDS, admit_to_slots, capacity_today
from core.world.config import WorldConfig
from core.world.dwell import Slowdown
from core.world.exceptions import schedule_next
from core.world.feed import event_ids, order_ids
from core.world.orders import CANCEL_CODE, DELIVERED_CODE, N_HAPPY, STATE_NAME_ARRAY, OpenOrders
from core.world.tables import WorldTables
from core.world.timeline import Clock, DayConditions

# More waves than any day needs; reaching it means a transition keeps firing at the same time.
_MAX_WAVES = 1000


@dataclass
class _EventLog:
    """The transitions fired during a day, wave by wave."""

    kinds: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    seqs: list[np.ndarray] = field(default_factory=list)
    gids: list[np.ndarray] = field(default_factory=list)

    def record(self, open_orders: OpenOrders, pos: np.ndarray) -> None:
        """Log the due transition of the orders at `pos` (before they fire)."""
        self.kinds.append(open_orders["next_kind"][pos])
        self.times.append(open_orders["next_ts"][pos])
        self.seqs.append(open_orders["n_events"][pos].copy())
        self.gids.append(open_orders["gid"][pos])

    def to_frame(self, clock: Clock) -> pd.DataFrame:
        """The day's events in feed columns, sorted by (event_ts, event_id)."""
        if self.kinds:
            kinds = np.concatenate(self.kinds)
            gids = np.concatenate(self.gids)
            seqs = np.concatenate(self.seqs)
            times = np.concatenate(self.times)
        else:
            kinds = gids = seqs = np.zeros(0, dtype=np.int64)
            times = np.zeros(0)
        ids_sort_as_numbers = bool(len(gids)) and gids.max() < 10**7 and seqs.max() < 100
        if ids_sort_as_numbers:
            # Fixed-width ids sort like their numbers: a numeric sort is several times faster
            # than sorting the strings and gives the same (event_ts, event_id) order.
            order = np.lexsort((seqs, gids, np.floor(times * 3600.0)))
            kinds, gids, seqs, times = kinds[order], gids[order], seqs[order], times[order]
        events = pd.DataFrame(
            {
                "event_id": event_ids(gids, seqs),
                "order_id": order_ids(gids),
                "stage": STATE_NAME_ARRAY[kinds] if len(kinds) else np.zeros(0, dtype=object),
                "event_ts": clock.timestamps(times),
            }
        )
        if len(gids) and not ids_sort_as_numbers:
            events = events.sort_values(["event_ts", "event_id"], kind="mergesort", ignore_index=True)
        return events


def _fire(open_orders: OpenOrders, pos: np.ndarray) -> np.ndarray:
    """Move the orders at `pos` into their due state; returns which of them closed."""
    kind = open_orders["next_kind"][pos]
    due_ts = open_orders["next_ts"][pos]
    open_orders["n_events"][pos] += 1
    open_orders["state"][pos] = kind
    open_orders["entered_ts"][pos] = due_ts
    happy = kind < N_HAPPY
    open_orders["last_happy"][pos[happy]] = kind[happy]
    closed = (kind == DELIVERED_CODE) | (kind == CANCEL_CODE)
    open_orders["closed_ts"][pos[closed]] = due_ts[closed]
    return closed


def move_orders(
    rng: np.random.Generator,
    config: WorldConfig,
    tables: WorldTables,
    clock: Clock,
    open_orders: OpenOrders,
    conditions: DayConditions,
    orders_per_day: int,
) -> pd.DataFrame:
    """Fire every transition due on the day, in waves; returns the day's events."""
    capacity = capacity_today(
        tables.capacity,
        config,
        tables.arrivals.base_weights,
        tables.arrivals.new_carrier_code,
        conditions,
        orders_per_day,
    )
    slowdown = _slowdown(config, tables, conditions)
    log = _EventLog()

    def due_today() -> np.ndarray:
        return (open_orders["next_ts"] < conditions.end_h) & np.isnan(open_orders["closed_ts"])

    for _ in range(_MAX_WAVES):
        # Capacity-gated steps take a slot in today's shift, first come first served.
        due = due_today()
        for kind_name in RESOURCE_KINDS:
            admit_to_slots(
                rng,
                tables.stages,
                tables.capacity,
                clock,
                open_orders,
                due,
                kind_name,
                capacity,
                conditions,
            )
        pos = np.flatnonzero(due_today())
        if not len(pos):
            break
        log.record(open_orders, pos)
        closed = _fire(open_orders, pos)
        schedule_next(
            rng,
            config,
            tables.exceptions,
            tables.stages,
            clock,
            open_orders,
            pos[~closed],
            slowdown,
        )
    else:  # pragma: no cover - a bug guard, transitions per day are bounded
        raise RuntimeError("simulation did not settle within a day")
    return log.to_frame(clock)


def _slowdown(config: WorldConfig, tables: WorldTables, conditions: DayConditions) -> Slowdown:
    scale = float(config.peak["dwell_factor"]) if conditions.in_peak else 1.0
    if not conditions.warehouse_outage:
        return Slowdown(scale=scale, outage_warehouse=None, outage_factor=1.0)
    return Slowdown(
        scale=scale,
        outage_warehouse=tables.capacity.outage_warehouse,
        outage_factor=float(config.scenarios["warehouse_outage"]["dwell_factor"]),
    )
