"""World time and what holds on a day: the peak season and the drift scenarios switched on.

Inside the world a time is a float of hours since midnight UTC of the world's first day; `Clock`
turns those into dates, weekdays and feed timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.world.config import Scenario


@dataclass(frozen=True)
class Clock:
    """Hours since the start of the world's first day, and their calendar meaning."""

    start: date

    @property
    def epoch(self) -> datetime:
        """Midnight UTC of the first day: hour 0.0."""
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    def hours(self, day: date) -> float:
        """The world hour at which `day` begins."""
        return (day - self.start).days * 24.0

    def weekdays(self, hours: np.ndarray) -> np.ndarray:
        """Weekday (Monday 0) of each world hour."""
        return (self.start.weekday() + np.floor(hours / 24.0).astype(np.int64)) % 7

    def timestamps(self, hours: np.ndarray) -> pd.Series:
        """World hours as UTC timestamps in whole seconds, like a real feed."""
        # Floor keeps the ordering of the simulated times.
        seconds = np.floor(np.asarray(hours, dtype=float) * 3600.0).astype(np.int64)
        epoch_us = int(self.epoch.timestamp()) * 1_000_000
        micros = (epoch_us + seconds * 1_000_000).astype("datetime64[us]")
        return pd.Series(micros).dt.tz_localize("UTC")


@dataclass(frozen=True)
class DayConditions:
    """One simulated day: its bounds in world hours and the season and scenarios in force."""

    day: date
    start_h: float
    end_h: float
    in_peak: bool
    warehouse_outage: bool
    surge_capacity_factor: float
    active: frozenset[str]  # names of the scenarios switched on


def scenario_active(scenarios: Sequence[Scenario], name: str, day: date) -> bool:
    """Whether scenario `name` is switched on for `day` (scenarios stay on once started)."""
    return any(s.name == name and s.start <= day for s in scenarios)


def in_peak(peak_range: tuple[str, str], day: date) -> bool:
    """Whether `day` falls in the peak season, given as MM-DD bounds that may wrap the new year."""
    month_day = f"{day.month:02d}-{day.day:02d}"
    first, last = peak_range
    if first <= last:
        return first <= month_day <= last
    return month_day >= first or month_day <= last


def outage_on(scenarios: Sequence[Scenario], settings: Mapping[str, Mapping[str, Any]], day: date) -> bool:
    """Whether a warehouse outage is under way; unlike the other scenarios it ends after a while."""
    duration = int(settings["warehouse_outage"]["duration_days"])
    return any(s.name == "warehouse_outage" and s.start <= day < s.start + timedelta(days=duration) for s in scenarios)


def surge_capacity_factor(scenarios: Sequence[Scenario], settings: Mapping[str, Mapping[str, Any]], day: date) -> float:
    """Capacity catches up with a demand surge after a delay, ramping linearly."""
    surge = settings["demand_surge"]
    starts = [s.start for s in scenarios if s.name == "demand_surge" and s.start <= day]
    if not starts:
        return 1.0
    delay = float(surge.get("capacity_delay_days", 0))
    ramp = max(float(surge.get("capacity_ramp_days", 1)), 1.0)
    progress = min(max(((day - min(starts)).days - delay) / ramp, 0.0), 1.0)
    return 1.0 + (float(surge["order_factor"]) - 1.0) * progress


def conditions_on(
    day: date,
    clock: Clock,
    peak_range: tuple[str, str],
    scenarios: Sequence[Scenario],
    settings: Mapping[str, Mapping[str, Any]],
) -> DayConditions:
    """Everything about `day` that the parts of the world ask; `settings` are the scenarios'."""
    start_h = clock.hours(day)
    return DayConditions(
        day=day,
        start_h=start_h,
        end_h=start_h + 24.0,
        in_peak=in_peak(peak_range, day),
        warehouse_outage=outage_on(scenarios, settings, day),
        surge_capacity_factor=surge_capacity_factor(scenarios, settings, day),
        active=frozenset(s.name for s in scenarios if s.start <= day),
    )
