"""Arrivals: how many orders a day brings, when in the day, with which attributes and promise.

Volume follows the weekday, the peak season and a demand surge; attributes are drawn from the
configured weights, which the new-carrier and schema-change scenarios shift once they start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.domain import CATEGORICAL_ATTRIBUTES
from core.errors import ConfigError
from core.world.config import WorldConfig
from core.world.feed import order_ids
from core.world.orders import OpenOrders
from core.world.timeline import Clock, DayConditions

# Attributes that a scenario adds a value to; that value has weight 0 until the scenario starts.
_SCENARIO_EXTENDED = ("carrier", "payment_method")


@dataclass(frozen=True)
class ArrivalTables:
    """Arrival rates and attribute weights, precomputed from the config."""

    values: Mapping[str, list[str]]  # attribute -> its values; the code of a value is its index
    base_weights: Mapping[str, np.ndarray]  # attribute -> share of each value before scenarios
    new_carrier_code: int
    new_payment_code: int
    weekday_factor: np.ndarray  # order volume per weekday, mean 1
    hour_cdf: np.ndarray  # cumulative share of the day's orders by hour
    promise_days: np.ndarray  # per ship_mode code
    value_median: np.ndarray  # per category code
    extra_items: np.ndarray  # per category code


@dataclass(frozen=True)
class Arrivals:
    """A day's new orders: rows for the open-order table and the feed's orders frame."""

    rows: OpenOrders
    orders: pd.DataFrame


def attribute_values(config: WorldConfig) -> dict[str, list[str]]:
    """The values of every attribute, including the carrier and payment method scenarios add."""
    values = {name: list(attribute.values) for name, attribute in config.attributes.items()}
    values["carrier"].append(str(config.scenarios["new_carrier"]["carrier"]))
    values["payment_method"].append(str(config.scenarios["schema_change"]["new_payment_method"]))
    return values


def build_arrival_tables(config: WorldConfig, values: Mapping[str, list[str]]) -> ArrivalTables:
    """Normalised weights and rates; scenario-only values start at weight 0."""
    base_weights = {
        name: np.array(attribute.weights + ((0.0,) if name in _SCENARIO_EXTENDED else ()), dtype=float)
        for name, attribute in config.attributes.items()
    }
    for weights in base_weights.values():
        weights /= weights.sum()
    weekday = np.array(config.weekday_factor)
    hourly = np.array(config.hourly_weight)
    return ArrivalTables(
        values=values,
        base_weights=base_weights,
        new_carrier_code=len(values["carrier"]) - 1,
        new_payment_code=len(values["payment_method"]) - 1,
        weekday_factor=weekday / weekday.mean(),
        hour_cdf=np.cumsum(hourly / hourly.sum()),
        promise_days=np.array([config.promise_days[v] for v in values["ship_mode"]], dtype=float),
        value_median=np.array(config.category_value_median),
        extra_items=np.array(config.category_extra_items),
    )


def check_schema_change(config: WorldConfig, values: Mapping[str, list[str]]) -> None:
    """The schema-change scenario must rename a category that exists."""
    renamed_from, _renamed_to = config.scenarios["schema_change"]["rename_category"]
    if renamed_from not in values["category"]:
        raise ConfigError(f"world config: [scenarios.schema_change] rename_category {renamed_from!r} is not a category")


def attribute_weights(tables: ArrivalTables, config: WorldConfig, conditions: DayConditions, attr: str) -> np.ndarray:
    """Weights of an attribute's values on the day, after the scenarios that shift them."""
    weights = tables.base_weights[attr].copy()
    settings = config.scenarios
    if attr == "carrier" and "new_carrier" in conditions.active:
        share = float(settings["new_carrier"]["share"])
        weights *= 1.0 - share
        weights[tables.new_carrier_code] = share
    if attr == "payment_method" and "schema_change" in conditions.active:
        share = float(settings["schema_change"]["new_payment_share"])
        weights *= 1.0 - share
        weights[tables.new_payment_code] = share
    return weights


def place_orders(
    rng: np.random.Generator,
    tables: ArrivalTables,
    config: WorldConfig,
    conditions: DayConditions,
    orders_per_day: int,
    first_gid: int,
    clock: Clock,
) -> Arrivals:
    """Draw the day's orders; every one is placed on the day and numbered from `first_gid`."""
    day_factor = tables.weekday_factor[conditions.day.weekday()]
    if conditions.in_peak:
        day_factor *= float(config.peak["order_factor"])
    if "demand_surge" in conditions.active:
        day_factor *= float(config.scenarios["demand_surge"]["order_factor"])
    n_orders = int(rng.poisson(orders_per_day * day_factor))
    placed = conditions.start_h + np.sort(
        np.searchsorted(tables.hour_cdf, rng.random(n_orders), side="right").clip(0, 23) + rng.random(n_orders)
    )
    codes: dict[str, np.ndarray] = {}
    for attr in CATEGORICAL_ATTRIBUTES:
        weights = attribute_weights(tables, config, conditions, attr)
        drawn = np.searchsorted(np.cumsum(weights), rng.random(n_orders) * weights.sum(), side="right")
        codes[attr] = drawn.clip(0, len(weights) - 1).astype(np.int16)
    category = codes["category"]
    items = 1 + rng.poisson(tables.extra_items[category])
    value = np.round(
        tables.value_median[category]
        * np.sqrt(items)
        * np.exp(config.category_value_sigma * rng.standard_normal(n_orders)),
        2,
    )
    # Every order of the day is placed on the day, so the promise counts from the day's start.
    promise = conditions.start_h + tables.promise_days[codes["ship_mode"]] * 24.0 + config.promise_hour
    gid = np.arange(first_gid, first_gid + n_orders, dtype=np.int64)
    rows = _open_rows(gid, codes, items, placed, promise)
    orders = _orders_frame(tables, config, conditions, clock, rows, value)
    return Arrivals(rows=rows, orders=orders)


def _open_rows(
    gid: np.ndarray,
    codes: Mapping[str, np.ndarray],
    items: np.ndarray,
    placed: np.ndarray,
    promise: np.ndarray,
) -> OpenOrders:
    n_orders = len(gid)
    rows = {
        "gid": gid,
        "state": np.zeros(n_orders, dtype=np.int64),
        "last_happy": np.zeros(n_orders, dtype=np.int64),
        "next_kind": np.zeros(n_orders, dtype=np.int64),
        "n_events": np.zeros(n_orders, dtype=np.int64),
        "n_contacts": np.zeros(n_orders, dtype=np.int64),
        "items": items.astype(np.int64),
        "placed_ts": placed,
        "eta_ts": promise,
        "entered_ts": placed,
        "next_ts": placed,  # the placed event itself is due at placement
        "queued_since": placed,
        "closed_ts": np.full(n_orders, np.nan),
        "gate_passed": np.zeros(n_orders, dtype=bool),
        "stalling": np.zeros(n_orders, dtype=bool),
    }
    rows.update(codes)
    return rows


def _orders_frame(
    tables: ArrivalTables,
    config: WorldConfig,
    conditions: DayConditions,
    clock: Clock,
    rows: OpenOrders,
    value: np.ndarray,
) -> pd.DataFrame:
    labels = {attr: np.array(tables.values[attr], dtype=object)[rows[attr]] for attr in CATEGORICAL_ATTRIBUTES}
    if "schema_change" in conditions.active:
        old, renamed = config.scenarios["schema_change"]["rename_category"]
        labels["category"] = np.where(labels["category"] == old, renamed, labels["category"])
    return pd.DataFrame(
        {
            "order_id": order_ids(rows["gid"]),
            "placed_at": clock.timestamps(rows["placed_ts"]),
            **{attr: labels[attr] for attr in ("channel", "region", "customer_tier", "category")},
            "order_value": value.astype(np.float64),
            "items": rows["items"].astype(np.int32),
            **{attr: labels[attr] for attr in ("payment_method", "ship_mode", "warehouse", "carrier")},
            "promised_at": clock.timestamps(rows["eta_ts"]),
        }
    )
