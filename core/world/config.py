"""What the world assumes, read and checked from `world.toml`, and the named drift scenarios.

Every check names the section and the key to fix; nothing here draws a random number.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core.domain import CATEGORICAL_ATTRIBUTES, EXCEPTIONS, STAGES, CostAssumptions, check_day
from core.errors import ConfigError
from core.world.defects import CLEAN, FeedDefects, read_feed_defects

WORLD_TOML = Path(__file__).with_name("world.toml")
SCENARIO_NAMES: tuple[str, ...] = (
    "new_carrier",
    "warehouse_outage",
    "demand_surge",
    "schema_change",
)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Attribute:
    """A categorical order attribute: its values and how often each is drawn."""

    values: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Transition:
    """The dwell to reach one stage from entering the previous one."""

    stage: str
    median_h: float
    sigma: float
    window_h: tuple[float, float] | None
    window_jitter_h: float
    items_factor: float
    capacity: str | None
    multipliers: Mapping[str, Mapping[str, float]]
    delay_probability: float = 0.0
    delay_h: float = 0.0
    closed_weekdays: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExceptionRule:
    """An exception that can interrupt the wait after stage `after`."""

    name: str
    after: str
    probability: float
    multipliers: Mapping[str, Mapping[str, float]]
    resolve_median_h: float
    resolve_sigma: float
    cancel_probability: float


@dataclass(frozen=True)
class WorldConfig:
    """Everything the world assumes, as read from world.toml."""

    attributes: Mapping[str, Attribute]
    category_value_median: tuple[float, ...]
    category_value_sigma: float
    category_extra_items: tuple[float, ...]
    weekday_factor: tuple[float, ...]
    hourly_weight: tuple[float, ...]
    peak: Mapping[str, Any]
    promise_days: Mapping[str, int]
    promise_hour: float
    transitions: Mapping[str, Transition]
    exceptions: Mapping[str, ExceptionRule]
    cancellation: Mapping[str, float]
    stall_probability: Mapping[str, float]
    stall_limit_multiple: tuple[float, float]
    capacity: Mapping[str, Any]
    contacts: Mapping[str, Any]
    triage: Mapping[str, Any]
    costs: CostAssumptions
    scenarios: Mapping[str, Mapping[str, Any]]
    sha256: str = ""
    feed_defects: FeedDefects = CLEAN  # what the landing files get wrong (`defects`); the world never does


@dataclass(frozen=True)
class Scenario:
    """A named drift scenario that switches on at a date and stays on."""

    name: str
    start: date


# Attribute name -> the values a `by_<attribute>` multiplier table may name.
KnownValues = Mapping[str, set[str]]


def _need(section: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in section:
        raise ConfigError(f"world config: [{where}] is missing `{key}`; add it to core/world/world.toml")
    return section[key]


def _multipliers(section: Mapping[str, Any], where: str, known: KnownValues) -> dict:
    found: dict[str, dict[str, float]] = {}
    for key, table in section.items():
        if not key.startswith("by_"):
            continue
        attr = key[3:]
        if attr not in known:
            raise ConfigError(
                f"world config: [{where}] `{key}` names no order attribute; use one of "
                f"{', '.join('by_' + name for name in sorted(known))}"
            )
        unknown = set(table) - known[attr]
        if unknown:
            raise ConfigError(f"world config: [{where}] `{key}` has unknown values {sorted(unknown)}")
        found[attr] = {str(k): float(v) for k, v in table.items()}
    return found


def _read_toml(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw_bytes = path.read_bytes()
        return raw_bytes, tomllib.loads(raw_bytes.decode())
    except FileNotFoundError as exc:
        raise ConfigError(f"world config: {path} does not exist; pass an existing world.toml") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"world config: {path} is not valid TOML ({exc}); fix the file") from exc


def _read_attributes(attrs_raw: Mapping[str, Any]) -> dict[str, Attribute]:
    attributes: dict[str, Attribute] = {}
    for name in CATEGORICAL_ATTRIBUTES:
        section = _need(attrs_raw, name, "attributes")
        values = tuple(str(v) for v in _need(section, "values", f"attributes.{name}"))
        weights = tuple(float(w) for w in _need(section, "weights", f"attributes.{name}"))
        if len(values) != len(weights) or not values or min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(f"world config: [attributes.{name}] needs as many non-negative weights as values")
        attributes[name] = Attribute(values, weights)
    return attributes


def _read_category_figures(
    category: Mapping[str, Any], n_categories: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Median order value and mean extra items per category, one entry per category."""
    value_median = tuple(float(v) for v in _need(category, "value_median", "attributes.category"))
    extra_items = tuple(float(v) for v in _need(category, "extra_items_mean", "attributes.category"))
    if len(value_median) != n_categories or len(extra_items) != n_categories:
        raise ConfigError(
            "world config: [attributes.category] value_median and extra_items_mean need one entry per category"
        )
    return value_median, extra_items


def _read_scenarios(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    scenarios = {k: dict(v) for k, v in raw.get("scenarios", {}).items()}
    missing = set(SCENARIO_NAMES) - set(scenarios)
    if missing:
        raise ConfigError(f"world config: [scenarios] lacks {sorted(missing)}; every named scenario needs its section")
    return scenarios


def _known_values(
    attributes: Mapping[str, Attribute], scenarios: Mapping[str, Mapping[str, Any]]
) -> dict[str, set[str]]:
    """Attribute values multipliers may name, including those only scenarios add."""
    known = {name: set(attribute.values) for name, attribute in attributes.items()}
    known["carrier"].add(str(scenarios["new_carrier"]["carrier"]))
    known["payment_method"].add(str(scenarios["schema_change"]["new_payment_method"]))
    return known


def _read_transitions(dwell: Mapping[str, Any], known: KnownValues) -> dict[str, Transition]:
    transitions: dict[str, Transition] = {}
    for stage in STAGES[1:]:
        section = _need(dwell, stage, "dwell")
        where = f"dwell.{stage}"
        window = section.get("window")
        capacity = section.get("capacity")
        if capacity not in (None, "warehouse", "carrier"):
            raise ConfigError(f"world config: [{where}] capacity must be 'warehouse' or 'carrier'")
        transitions[stage] = Transition(
            stage=stage,
            median_h=float(_need(section, "median_h", where)),
            sigma=float(_need(section, "sigma", where)),
            window_h=(float(window[0]), float(window[1])) if window else None,
            window_jitter_h=float(section.get("window_jitter_h", 1.0)),
            items_factor=float(section.get("items_factor", 0.0)),
            capacity=capacity,
            multipliers=_multipliers(section, where, known),
            delay_probability=float(section.get("delay_probability", 0.0)),
            delay_h=float(section.get("delay_h", 0.0)),
            closed_weekdays=tuple(int(d) for d in section.get("closed_weekdays", ())),
        )
    return transitions


def _read_exceptions(raw: Mapping[str, Any], known: KnownValues) -> dict[str, ExceptionRule]:
    exceptions: dict[str, ExceptionRule] = {}
    for name in EXCEPTIONS:
        section = _need(_need(raw, "exceptions", "root"), name, "exceptions")
        where = f"exceptions.{name}"
        after = str(_need(section, "after", where))
        if after not in STAGES[:-1]:
            raise ConfigError(f"world config: [{where}] after={after!r} is not a stage before delivered")
        exceptions[name] = ExceptionRule(
            name=name,
            after=after,
            probability=float(_need(section, "probability", where)),
            multipliers=_multipliers(section, where, known),
            resolve_median_h=float(_need(section, "resolve_median_h", where)),
            resolve_sigma=float(_need(section, "resolve_sigma", where)),
            cancel_probability=float(_need(section, "cancel_probability", where)),
        )
    if len({rule.after for rule in exceptions.values()}) != len(exceptions):
        raise ConfigError("world config: two exceptions share the same `after` stage; give each its own")
    return exceptions


def _read_order_rhythm(orders: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Weekday factors (7) and hourly weights (24) of order arrivals."""
    weekday = tuple(float(x) for x in _need(orders, "weekday_factor", "orders"))
    hourly = tuple(float(x) for x in _need(orders, "hourly_weight", "orders"))
    if len(weekday) != 7 or len(hourly) != 24:
        raise ConfigError("world config: [orders] needs 7 weekday_factor and 24 hourly_weight values")
    return weekday, hourly


def _read_promise_days(promise: Mapping[str, Any], ship_modes: Iterable[str]) -> dict[str, int]:
    promise_days = {str(k): int(v) for k, v in _need(promise, "days", "promise").items()}
    if set(promise_days) != set(ship_modes):
        raise ConfigError("world config: [promise] days needs exactly one entry per ship_mode")
    return promise_days


def load_world_config(path: Path | str | None = None) -> WorldConfig:
    """Read and check the world configuration (default: core/world/world.toml)."""
    path = Path(path) if path else WORLD_TOML
    raw_bytes, raw = _read_toml(path)
    # The checks run in file order so the first problem reported is the first one a reader meets.
    attrs_raw = _need(raw, "attributes", "root")
    attributes = _read_attributes(attrs_raw)
    category = attrs_raw["category"]
    value_median, extra_items = _read_category_figures(category, len(attributes["category"].values))
    scenarios = _read_scenarios(raw)
    known = _known_values(attributes, scenarios)
    transitions = _read_transitions(_need(raw, "dwell", "root"), known)
    exceptions = _read_exceptions(raw, known)
    stalls = _need(raw, "stalls", "root")
    weekday, hourly = _read_order_rhythm(_need(raw, "orders", "root"))
    promise = _need(raw, "promise", "root")
    promise_days = _read_promise_days(promise, attributes["ship_mode"].values)
    return WorldConfig(
        attributes=attributes,
        category_value_median=value_median,
        category_value_sigma=float(category.get("value_sigma", 0.6)),
        category_extra_items=extra_items,
        weekday_factor=weekday,
        hourly_weight=hourly,
        peak=dict(_need(raw, "peak", "root")),
        promise_days=promise_days,
        promise_hour=float(_need(promise, "hour", "promise")),
        transitions=transitions,
        exceptions=exceptions,
        cancellation={k: float(v) for k, v in _need(raw, "cancellation", "root").items()},
        stall_probability={k: float(v) for k, v in _need(stalls, "probability", "stalls").items()},
        stall_limit_multiple=tuple(  # type: ignore[arg-type]
            float(x) for x in _need(stalls, "limit_multiple", "stalls")
        ),
        capacity=dict(_need(raw, "capacity", "root")),
        contacts=dict(_need(raw, "contacts", "root")),
        triage=dict(_need(raw, "triage", "root")),
        costs=CostAssumptions(**{k: float(v) for k, v in raw.get("costs", {}).items()}),
        scenarios=scenarios,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        feed_defects=read_feed_defects(raw.get("feed_defects")),
    )


def parse_scenarios(specs: Iterable[str]) -> list[Scenario]:
    """Turn 'name@YYYY-MM-DD' strings into scenarios; a bad spec raises ConfigError."""
    scenarios = []
    for spec in specs:
        name, sep, when = str(spec).partition("@")
        if not sep or name not in SCENARIO_NAMES:
            raise ConfigError(
                f"scenario {spec!r}: expected NAME@YYYY-MM-DD with NAME one of {', '.join(SCENARIO_NAMES)}"
            )
        scenarios.append(Scenario(name, parse_date(when, f"scenario {spec!r}")))
    return scenarios


def parse_date(text: str, what: str) -> date:
    """Read a YYYY-MM-DD date; `what` names the argument in the error."""
    if not _DATE_RE.fullmatch(text or ""):
        raise ConfigError(f"{what}: {text!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-01")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{what}: {text!r} is not a valid calendar date ({exc})") from exc
    return check_day(day, f"{what}:")
