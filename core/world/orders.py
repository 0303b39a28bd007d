"""The open orders as columns of numpy arrays, and the state codes they move through.

An order's state is an integer: the happy path 0..7, then the exceptions, then cancelled. The open
orders are a `dict` of equal-length arrays (one row per order, sorted by `gid`) so that every step
of the world is vectorised over orders.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from core.domain import CANCELLED, CATEGORICAL_ATTRIBUTES, EXCEPTIONS, STAGES, STALL_LIMIT_HOURS

STATE_NAMES: tuple[str, ...] = STAGES + EXCEPTIONS + (CANCELLED,)
N_HAPPY = len(STAGES)
CANCEL_CODE = len(STATE_NAMES) - 1
DELIVERED_CODE = N_HAPPY - 1
STATE_NAME_ARRAY = np.array(STATE_NAMES, dtype=object)
STATE_CODE = {name: code for code, name in enumerate(STATE_NAMES)}
# Stall limit of the state an order sits in (cancelled/delivered never stall).
STALL_LIMIT_H = np.array([STALL_LIMIT_HOURS.get(name, np.inf) for name in STATE_NAMES])
MIN_STEP_H = 1.0 / 60.0  # one minute: keeps timestamps per order strictly increasing at 1 s

# Columns of the open-order table besides the categorical attributes (stored as value codes).
ORDER_INT_FIELDS = ("gid", "state", "last_happy", "next_kind", "n_events", "n_contacts", "items")
ORDER_FLOAT_FIELDS = (
    "placed_ts",
    "eta_ts",
    "entered_ts",
    "next_ts",
    "queued_since",
    "closed_ts",
)
ORDER_BOOL_FIELDS = ("gate_passed", "stalling")

OpenOrders = dict[str, np.ndarray]
# Per-attribute factor arrays indexed by value code; their product scales a dwell or probability.
Multipliers = list[tuple[str, np.ndarray]]


def empty_orders() -> OpenOrders:
    """An open-order table with no rows and every column in its dtype."""
    columns: OpenOrders = {}
    for name in ORDER_INT_FIELDS:
        columns[name] = np.zeros(0, dtype=np.int64)
    for name in CATEGORICAL_ATTRIBUTES:
        columns[name] = np.zeros(0, dtype=np.int16)
    for name in ORDER_FLOAT_FIELDS:
        columns[name] = np.zeros(0, dtype=float)
    for name in ORDER_BOOL_FIELDS:
        columns[name] = np.zeros(0, dtype=bool)
    return columns


def multiplier_arrays(multipliers: Mapping[str, Mapping[str, float]], values: Mapping[str, list[str]]) -> Multipliers:
    """Turn `{attribute: {value: factor}}` into factor arrays indexed by value code."""
    arrays = []
    for attr, table in multipliers.items():
        factors = np.ones(len(values[attr]))
        for value, factor in table.items():
            factors[values[attr].index(value)] = factor
        arrays.append((attr, factors))
    return arrays


def set_value_multiplier(
    arrays: Multipliers, values: Mapping[str, list[str]], attr: str, code: int, factor: float
) -> None:
    """Set the factor of one attribute value, adding that attribute's array if it has none."""
    for name, factors in arrays:
        if name == attr:
            factors[code] = factor
            return
    factors = np.ones(len(values[attr]))
    factors[code] = factor
    arrays.append((attr, factors))


def multiplier_of(arrays: Multipliers, open_orders: OpenOrders, pos: np.ndarray) -> np.ndarray:
    """The product of the attribute factors of the orders at `pos`."""
    product = np.ones(len(pos))
    for attr, factors in arrays:
        product *= factors[open_orders[attr][pos]]
    return product


def append_orders(open_orders: OpenOrders, rows: OpenOrders) -> OpenOrders:
    """The open orders with `rows` added at the end, each column kept in its dtype."""
    return {name: np.concatenate([column, rows[name].astype(column.dtype)]) for name, column in open_orders.items()}


def drop_closed(open_orders: OpenOrders) -> OpenOrders:
    """The open orders without the delivered and cancelled ones; their history is in the feed."""
    still_open = np.isnan(open_orders["closed_ts"])
    return {name: column[still_open] for name, column in open_orders.items()}
