"""The fixed rules of a world, precomputed from its config once: one table per part of the world.

Building them also checks what the config loader cannot: that the scenarios name stages,
warehouses and categories the world has. The checks run in the order the parts are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.world.arrivals import (
    ArrivalTables,
    attribute_values,
    build_arrival_tables,
    check_schema_change,
)
from core.world.capacity import CapacityTables, build_capacity_tables
from core.world.config import WorldConfig
from core.world.dwell import StageTables, build_stage_tables
from core.world.exceptions import ExceptionTables, build_exception_tables


@dataclass(frozen=True)
class WorldTables:
    """Everything the world looks up while it steps, keyed by attribute value and state codes."""

    values: Mapping[str, list[str]]  # attribute -> its values; a value's code is its index
    arrivals: ArrivalTables
    stages: StageTables
    exceptions: ExceptionTables
    capacity: CapacityTables
    peak_range: tuple[str, str]  # MM-DD of the first and last day of the peak season


def build_tables(config: WorldConfig) -> WorldTables:
    """Precompute every table of the world; a scenario naming something unknown raises."""
    values = attribute_values(config)
    arrivals = build_arrival_tables(config, values)
    stages = build_stage_tables(config, values, arrivals.new_carrier_code)
    exceptions = build_exception_tables(config, values, arrivals.new_carrier_code)
    peak_range = (str(config.peak["start"]), str(config.peak["end"]))
    capacity = build_capacity_tables(config, values)
    check_schema_change(config, values)
    return WorldTables(
        values=values,
        arrivals=arrivals,
        stages=stages,
        exceptions=exceptions,
        capacity=capacity,
        peak_range=peak_range,
    )
