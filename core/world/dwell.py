"""How long an order waits to reach its next happy stage, and when a stage is open for work.

A dwell is lognormal around a median that grows with the items in the order and with per-attribute
multipliers; some stages add an occasional fixed delay, work only in hours of operation and not on
some weekdays (e.g. no Sunday rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.world.config import WorldConfig
from core.world.orders import (
    STATE_CODE,
    STATE_NAMES,
    Multipliers,
    OpenOrders,
    multiplier_arrays,
    multiplier_of,
    set_value_multiplier,
)
from core.world.timeline import Clock

# Stages the warehouse works on: an outage slows these down.
_WAREHOUSE_WORK = [STATE_CODE["picked"], STATE_CODE["packed"]]


@dataclass(frozen=True)
class StageTables:
    """Per target state (indexed by state code): how the dwell to reach it is drawn."""

    dwell_median: np.ndarray
    dwell_sigma: np.ndarray
    items_factor: np.ndarray
    delay_probability: np.ndarray
    delay_h: np.ndarray
    closed_weekdays: np.ndarray  # (state, weekday) -> no service that day
    window: np.ndarray  # (state, 2): hours of operation [open, close), NaN if always open
    window_jitter_h: np.ndarray
    capacity_kind: list[str | None]  # "warehouse" / "carrier" if reaching it takes a slot
    multipliers: dict[int, Multipliers]


@dataclass(frozen=True)
class Slowdown:
    """What slows every dwell on a day: the peak season and a warehouse outage."""

    scale: float
    outage_warehouse: int | None  # code of the warehouse out, None when no outage is under way
    outage_factor: float


def build_stage_tables(config: WorldConfig, values: dict[str, list[str]], new_carrier_code: int) -> StageTables:
    """Stage tables from the config's transitions; the new carrier's transit factor is set here."""
    n_states = len(STATE_NAMES)
    tables = StageTables(
        dwell_median=np.zeros(n_states),
        dwell_sigma=np.zeros(n_states),
        items_factor=np.zeros(n_states),
        delay_probability=np.zeros(n_states),
        delay_h=np.zeros(n_states),
        closed_weekdays=np.zeros((n_states, 7), dtype=bool),
        window=np.full((n_states, 2), np.nan),
        window_jitter_h=np.zeros(n_states),
        capacity_kind=[None] * n_states,
        multipliers={},
    )
    for stage, transition in config.transitions.items():
        code = STATE_CODE[stage]
        tables.dwell_median[code] = transition.median_h
        tables.dwell_sigma[code] = transition.sigma
        tables.items_factor[code] = transition.items_factor
        tables.delay_probability[code] = transition.delay_probability
        tables.delay_h[code] = transition.delay_h
        tables.closed_weekdays[code, list(transition.closed_weekdays)] = True
        if transition.window_h:
            tables.window[code] = transition.window_h
        tables.window_jitter_h[code] = transition.window_jitter_h
        tables.capacity_kind[code] = transition.capacity
        tables.multipliers[code] = multiplier_arrays(transition.multipliers, values)
    transit = tables.multipliers[STATE_CODE["out_for_delivery"]]
    transit_factor = float(config.scenarios["new_carrier"]["transit_factor"])
    set_value_multiplier(transit, values, "carrier", new_carrier_code, transit_factor)
    return tables


def dwell_to(
    rng: np.random.Generator,
    tables: StageTables,
    open_orders: OpenOrders,
    target: np.ndarray,
    pos: np.ndarray,
    slowdown: Slowdown,
) -> np.ndarray:
    """Lognormal dwell to reach happy stage `target` for each order in `pos`."""
    items = open_orders["items"][pos]
    median = tables.dwell_median[target] * slowdown.scale * (1.0 + tables.items_factor[target] * (items - 1))
    for code in np.unique(target):
        same_target = target == code
        median[same_target] *= multiplier_of(tables.multipliers.get(int(code), []), open_orders, pos[same_target])
    if slowdown.outage_warehouse is not None:
        hit = (open_orders["warehouse"][pos] == slowdown.outage_warehouse) & np.isin(target, _WAREHOUSE_WORK)
        median[hit] *= slowdown.outage_factor
    dwell = median * np.exp(tables.dwell_sigma[target] * rng.standard_normal(len(pos)))
    delayed = rng.random(len(pos)) < tables.delay_probability[target]
    return dwell + np.where(delayed, tables.delay_h[target], 0.0)


def snap_to_hours(
    rng: np.random.Generator,
    tables: StageTables,
    clock: Clock,
    due_ts: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Move times outside a stage's hours of operation to its next opening (plus jitter)."""
    opens = tables.window[kind, 0]
    closes = tables.window[kind, 1]
    has_window = ~np.isnan(opens)
    if not has_window.any():
        return due_ts
    hour_of_day = np.mod(due_ts, 24.0)
    jitter = rng.random(len(due_ts)) * tables.window_jitter_h[kind]
    early = has_window & (hour_of_day < opens)
    late = has_window & (hour_of_day >= closes)
    snapped = due_ts.copy()
    snapped[early] = due_ts[early] - hour_of_day[early] + opens[early] + jitter[early]
    snapped[late] = due_ts[late] - hour_of_day[late] + 24.0 + opens[late] + jitter[late]
    # Days without service (e.g. no Sunday rounds) push the step to the next open day.
    for _ in range(6):
        shut = tables.closed_weekdays[kind, clock.weekdays(snapped)]
        if not shut.any():
            break
        snapped[shut] += 24.0
    return snapped
