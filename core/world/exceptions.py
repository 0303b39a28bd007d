"""What happens next to an order that just entered a state: progress, an exception, a cancellation
or a silent stall, and when.

From a happy stage an order is cancelled (only right after placement), hits the exception that may
follow that stage part-way into its wait, stalls silently for longer than the stage's stall limit,
or moves on after its normal dwell. From an exception it resumes its journey after a resolution
time, or is cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError
from core.world.config import WorldConfig
from core.world.dwell import Slowdown, StageTables, dwell_to, snap_to_hours
from core.world.orders import (
    CANCEL_CODE,
    MIN_STEP_H,
    N_HAPPY,
    STALL_LIMIT_H,
    STATE_CODE,
    STATE_NAMES,
    Multipliers,
    OpenOrders,
    multiplier_arrays,
    multiplier_of,
    set_value_multiplier,
)
from core.world.timeline import Clock


@dataclass(frozen=True)
class ExceptionTables:
    """Per state code: the exception that may follow it, and how exceptions and stalls behave."""

    exception_after: np.ndarray  # happy stage code -> exception code that may follow, -1 if none
    probability: np.ndarray
    multipliers: dict[int, Multipliers]
    resolve_median_h: np.ndarray
    resolve_sigma: np.ndarray
    cancel_probability: np.ndarray  # of an order in the exception
    stall_probability: np.ndarray  # of an order in the happy stage


@dataclass(frozen=True)
class NextStep:
    """For a batch of orders: the state each goes to next, after how long, and whether it stalls."""

    kind: np.ndarray
    dwell_h: np.ndarray
    stalling: np.ndarray

    def put(self, rows: np.ndarray, part: NextStep) -> None:
        """Fill `rows` of this batch with the steps drawn for that part of it."""
        self.kind[rows] = part.kind
        self.dwell_h[rows] = part.dwell_h
        self.stalling[rows] = part.stalling


def build_exception_tables(
    config: WorldConfig, values: Mapping[str, list[str]], new_carrier_code: int
) -> ExceptionTables:
    """Exception and stall tables; the new carrier's exception factor is set here."""
    n_states = len(STATE_NAMES)
    tables = ExceptionTables(
        exception_after=np.full(N_HAPPY, -1),
        probability=np.zeros(n_states),
        multipliers={},
        resolve_median_h=np.zeros(n_states),
        resolve_sigma=np.zeros(n_states),
        cancel_probability=np.zeros(n_states),
        stall_probability=np.zeros(n_states),
    )
    for name, rule in config.exceptions.items():
        code = STATE_CODE[name]
        tables.exception_after[STATE_CODE[rule.after]] = code
        tables.probability[code] = rule.probability
        tables.multipliers[code] = multiplier_arrays(rule.multipliers, values)
        tables.resolve_median_h[code] = rule.resolve_median_h
        tables.resolve_sigma[code] = rule.resolve_sigma
        tables.cancel_probability[code] = rule.cancel_probability
    set_value_multiplier(
        tables.multipliers[STATE_CODE["carrier_exception"]],
        values,
        "carrier",
        new_carrier_code,
        float(config.scenarios["new_carrier"]["exception_factor"]),
    )
    for stage, probability in config.stall_probability.items():
        if stage not in STATE_CODE:
            raise ConfigError(f"world config: [stalls] probability names unknown stage {stage!r}")
        tables.stall_probability[STATE_CODE[stage]] = probability
    return tables


def schedule_next(
    rng: np.random.Generator,
    config: WorldConfig,
    tables: ExceptionTables,
    stages: StageTables,
    clock: Clock,
    open_orders: OpenOrders,
    pos: np.ndarray,
    slowdown: Slowdown,
) -> None:
    """Draw the next event and its time for the orders at `pos`, which just entered a new state."""
    if not len(pos):
        return
    state = open_orders["state"][pos]
    entered = open_orders["entered_ts"][pos]
    n_orders = len(pos)
    # One uniform per order picks the outcome. The order of the draws is the seed contract: the
    # orders leaving an exception draw before those leaving a happy stage.
    uniform = rng.random(n_orders)
    step = NextStep(
        kind=np.zeros(n_orders, dtype=np.int64),
        dwell_h=np.zeros(n_orders),
        stalling=np.zeros(n_orders, dtype=bool),
    )
    in_exception = state >= N_HAPPY
    rows = np.flatnonzero(in_exception)
    if len(rows):
        step.put(rows, _next_from_exception(rng, tables, open_orders, pos[rows], uniform[rows], slowdown))
    rows = np.flatnonzero(~in_exception)
    if len(rows):
        step.put(
            rows,
            _next_from_happy_stage(rng, config, tables, stages, open_orders, pos[rows], uniform[rows], slowdown),
        )
    due_ts = entered + np.maximum(step.dwell_h, MIN_STEP_H)
    due_ts = np.maximum(snap_to_hours(rng, stages, clock, due_ts, step.kind), entered + MIN_STEP_H)
    open_orders["next_kind"][pos] = step.kind
    open_orders["next_ts"][pos] = due_ts
    open_orders["queued_since"][pos] = due_ts
    open_orders["gate_passed"][pos] = False
    open_orders["stalling"][pos] = step.stalling


def _next_from_exception(
    rng: np.random.Generator,
    tables: ExceptionTables,
    open_orders: OpenOrders,
    pos: np.ndarray,
    uniform: np.ndarray,
    slowdown: Slowdown,
) -> NextStep:
    """Resume with the next happy stage after a resolution time, or cancel."""
    state = open_orders["state"][pos]
    cancel = uniform < tables.cancel_probability[state]
    kind = np.where(cancel, CANCEL_CODE, open_orders["last_happy"][pos] + 1)
    dwell_h = (
        tables.resolve_median_h[state]
        * slowdown.scale
        * np.exp(tables.resolve_sigma[state] * rng.standard_normal(len(pos)))
    )
    # Waiting on an exception is a stall that triage can cut short.
    return NextStep(kind=kind, dwell_h=dwell_h, stalling=np.ones(len(pos), dtype=bool))


def _next_from_happy_stage(
    rng: np.random.Generator,
    config: WorldConfig,
    tables: ExceptionTables,
    stages: StageTables,
    open_orders: OpenOrders,
    pos: np.ndarray,
    uniform: np.ndarray,
    slowdown: Slowdown,
) -> NextStep:
    """Cancel, strike the stage's exception, stall silently, or move on after the normal dwell."""
    state = open_orders["state"][pos]
    target = state + 1
    normal_dwell = dwell_to(rng, stages, open_orders, target, pos, slowdown)
    exception_code = tables.exception_after[state]
    p_exception = np.zeros(len(pos))
    for code in np.unique(exception_code[exception_code >= 0]):
        same_exception = exception_code == code
        p_exception[same_exception] = tables.probability[code] * multiplier_of(
            tables.multipliers[int(code)], open_orders, pos[same_exception]
        )
    cancellation = config.cancellation
    p_cancel = np.where(state == 0, float(cancellation["probability"]), 0.0)
    cancel = uniform < p_cancel
    exception = ~cancel & (uniform < p_cancel + p_exception)
    goes_on = ~cancel & ~exception
    kind = np.where(cancel, CANCEL_CODE, np.where(exception, exception_code, target))
    cancel_dwell = float(cancellation["median_h"]) * np.exp(
        float(cancellation["sigma"]) * rng.standard_normal(len(pos))
    )
    # The exception strikes part-way into the normal wait.
    exception_dwell = normal_dwell * rng.uniform(0.2, 1.0, len(pos))
    low, high = config.stall_limit_multiple
    stall = goes_on & (rng.random(len(pos)) < tables.stall_probability[state])
    limit_h = STALL_LIMIT_H[np.minimum(state, len(STALL_LIMIT_H) - 1)]
    stall_dwell = limit_h * rng.uniform(low, high, len(pos))
    dwell_h = np.where(
        cancel,
        cancel_dwell,
        np.where(exception, exception_dwell, np.where(stall, stall_dwell, normal_dwell)),
    )
    return NextStep(kind=kind, dwell_h=dwell_h, stalling=stall)
