"""Daily warehouse and carrier capacity, and the FIFO backlog of orders waiting for a slot.

Some stages (picking, the carrier pickup) take a slot of the day's shift at the warehouse or the
carrier. Slots go first come first served, rush orders first; orders that get none wait for the
start of tomorrow's shift and keep their place in the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError
from core.world.config import WorldConfig
from core.world.dwell import StageTables, snap_to_hours
from core.world.orders import OpenOrders
from core.world.timeline import Clock, DayConditions

RESOURCE_KINDS = ("warehouse", "carrier")


@dataclass(frozen=True)
class CapacityTables:
    """Capacity settings precomputed from the config."""

    warehouse_weekday: np.ndarray
    carrier_weekday: np.ndarray
    shift: tuple[float, float]  # hours of the day the slots are spread over
    priority_mode: int  # ship_mode code served first, -1 if none
    outage_warehouse: int  # warehouse code the outage scenario shuts down


@dataclass(frozen=True)
class DayCapacity:
    """Slots of one day per warehouse and per carrier: the total and what is left."""

    total: dict[str, np.ndarray]
    left: dict[str, np.ndarray]


def build_capacity_tables(config: WorldConfig, values: Mapping[str, list[str]]) -> CapacityTables:
    """Capacity tables; the outage scenario must name a known warehouse."""
    settings = config.capacity
    warehouse_weekday = np.array(settings["warehouse_weekday_factor"], dtype=float)
    carrier_weekday = np.array(settings["carrier_weekday_factor"], dtype=float)
    shift = (float(settings["shift"][0]), float(settings["shift"][1]))
    rush_mode = str(settings.get("priority_ship_mode", ""))
    ship_modes = values["ship_mode"]
    priority_mode = ship_modes.index(rush_mode) if rush_mode in ship_modes else -1
    outage_name = str(config.scenarios["warehouse_outage"]["warehouse"])
    if outage_name not in values["warehouse"]:
        raise ConfigError(f"world config: [scenarios.warehouse_outage] warehouse is not one of {values['warehouse']}")
    return CapacityTables(
        warehouse_weekday=warehouse_weekday,
        carrier_weekday=carrier_weekday,
        shift=shift,
        priority_mode=priority_mode,
        outage_warehouse=values["warehouse"].index(outage_name),
    )


def capacity_today(
    tables: CapacityTables,
    config: WorldConfig,
    base_weights: Mapping[str, np.ndarray],
    new_carrier_code: int,
    conditions: DayConditions,
    orders_per_day: int,
) -> DayCapacity:
    """Slots per warehouse and carrier: expected volume times headroom, season and scenarios."""
    settings = config.capacity
    peak = float(config.peak["capacity_factor"]) if conditions.in_peak else 1.0
    weekday = conditions.day.weekday()
    warehouse = (
        float(settings["warehouse_headroom"])
        * orders_per_day
        * base_weights["warehouse"]
        * tables.warehouse_weekday[weekday]
        * peak
    )
    if conditions.warehouse_outage:
        outage_factor = float(config.scenarios["warehouse_outage"]["capacity_factor"])
        warehouse[tables.outage_warehouse] *= outage_factor
    surge = conditions.surge_capacity_factor
    warehouse *= surge
    carrier_share = base_weights["carrier"].copy()
    # A new carrier brings its own pickup capacity for the share it takes.
    carrier_share[new_carrier_code] = float(config.scenarios["new_carrier"]["share"])
    carrier = (
        float(settings["carrier_headroom"])
        * orders_per_day
        * carrier_share
        * tables.carrier_weekday[weekday]
        * peak
        * surge
    )
    # Rounded up so that even a tiny test world (a few orders a day) keeps moving.
    total = {"warehouse": np.ceil(warehouse), "carrier": np.ceil(carrier)}
    return DayCapacity(total=total, left={k: v.copy() for k, v in total.items()})


def gated_codes(stages: StageTables, kind_name: str) -> list[int]:
    """State codes whose reaching takes a slot of resource `kind_name`."""
    return [code for code, kind in enumerate(stages.capacity_kind) if kind == kind_name]


def admit_to_slots(
    rng: np.random.Generator,
    stages: StageTables,
    tables: CapacityTables,
    clock: Clock,
    open_orders: OpenOrders,
    due: np.ndarray,
    kind_name: str,
    capacity: DayCapacity,
    conditions: DayConditions,
) -> None:
    """Give due orders waiting for a `kind_name` slot one in today's shift, or queue them."""
    gated = due & ~open_orders["gate_passed"] & np.isin(open_orders["next_kind"], gated_codes(stages, kind_name))
    idx = np.flatnonzero(gated)
    if not len(idx):
        return
    resource = open_orders[kind_name][idx].astype(np.int64)
    rush = open_orders["ship_mode"][idx] == tables.priority_mode
    queue_order = np.lexsort((open_orders["gid"][idx], open_orders["queued_since"][idx], ~rush, resource))
    idx, resource, rush = idx[queue_order], resource[queue_order], rush[queue_order]
    # Place in the queue of its own warehouse or carrier.
    rank = np.arange(len(idx)) - np.searchsorted(resource, resource, side="left")
    left = capacity.left[kind_name][resource]
    admit = rank < left
    total = np.maximum(capacity.total[kind_name][resource], 1.0)
    used = total - left + rank
    shift_start, shift_end = tables.shift
    slot = conditions.start_h + shift_start + (shift_end - shift_start) * np.clip(used / total, 0.0, 1.0)
    slot[rush] = conditions.start_h + shift_start
    admitted = idx[admit]
    open_orders["next_ts"][admitted] = snap_to_hours(
        rng,
        stages,
        clock,
        np.maximum(open_orders["next_ts"][admitted], slot[admit]),
        open_orders["next_kind"][admitted],
    )
    open_orders["gate_passed"][admitted] = True
    np.subtract.at(capacity.left[kind_name], resource[admit], 1.0)
    # Backlog: try again at the start of tomorrow's shift (FIFO order is kept).
    open_orders["next_ts"][idx[~admit]] = conditions.end_h + shift_start


def waiting_for_slots(
    stages: StageTables,
    values: Mapping[str, list[str]],
    open_orders: OpenOrders,
    now_h: float,
) -> dict[str, int]:
    """Orders waiting for a capacity slot at `now_h`, per warehouse and per carrier."""
    backlog: dict[str, int] = {}
    for kind_name in RESOURCE_KINDS:
        waiting = (
            np.isnan(open_orders["closed_ts"])
            & ~open_orders["gate_passed"]
            & np.isin(open_orders["next_kind"], gated_codes(stages, kind_name))
            & (open_orders["queued_since"] < now_h)
        )
        counts = np.bincount(open_orders[kind_name][waiting], minlength=len(values[kind_name]))
        backlog.update({values[kind_name][i]: int(n) for i, n in enumerate(counts)})
    return backlog
