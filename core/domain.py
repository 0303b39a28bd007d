"""The order-journey domain: stages, exceptions, attributes, stall limits, cost assumptions,
the model kinds and the end of a day.

One place for the vocabulary that the simulator, the ingest contract, the features and the pages share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from core.errors import ConfigError

# The happy path, in order.
STAGES: tuple[str, ...] = (
    "placed",
    "payment_confirmed",
    "allocated",
    "picked",
    "packed",
    "shipped",
    "out_for_delivery",
    "delivered",
)
EXCEPTIONS: tuple[str, ...] = ("payment_hold", "stock_shortage", "address_query", "carrier_exception")
CANCELLED = "cancelled"
TERMINAL: tuple[str, ...] = ("delivered", CANCELLED)
KNOWN_STAGES: frozenset[str] = frozenset(STAGES + EXCEPTIONS + (CANCELLED,))
STAGE_RANK: dict[str, int] = {stage: rank for rank, stage in enumerate(STAGES)}

# Order attributes carried by the simulated feed (and by a company feed mapped onto it).
CATEGORICAL_ATTRIBUTES: tuple[str, ...] = (
    "channel",
    "region",
    "customer_tier",
    "category",
    "payment_method",
    "ship_mode",
    "warehouse",
    "carrier",
)
NUMERIC_ATTRIBUTES: tuple[str, ...] = ("order_value", "items")
# Segments that bias and gate checks are computed over.
SEGMENT_COLUMNS: tuple[str, ...] = ("carrier", "region", "channel", "ship_mode", "customer_tier")

# An order is stuck once it stays in one stage (or exception) longer than that stage's limit.
STALL_LIMIT_HOURS: dict[str, float] = {
    "placed": 24.0,
    "payment_confirmed": 36.0,
    "allocated": 48.0,
    "picked": 24.0,
    "packed": 48.0,
    "shipped": 96.0,
    "out_for_delivery": 36.0,
    "payment_hold": 48.0,
    "stock_shortage": 72.0,
    "address_query": 48.0,
    "carrier_exception": 72.0,
}


@dataclass(frozen=True)
class CostAssumptions:
    """Money values the business metric is built from; the benefits owner can change them."""

    contact_cost: float = 6.0  # one inbound "where is my order" contact
    late_cost_per_day: float = 4.0  # delivered later than promised: contacts, goodwill
    early_promise_cost_per_day: float = 1.5  # promised later than needed: lost conversion
    missed_stuck_cost: float = 40.0  # a stuck order nobody caught early
    triage_check_cost: float = 3.0  # one order looked at by the triage team
    sla_breach_cost: float = 15.0


# The two models the factory trains, serves and gates.
ModelKind = Literal["forecaster", "stuck_classifier"]
MODEL_KINDS: tuple[ModelKind, ...] = ("forecaster", "stuck_classifier")


def end_of_day(day: date) -> datetime:
    """The instant a day ends: the next midnight (UTC, naive); what happened on the day is before it."""
    return datetime.combine(day + timedelta(days=1), time())


def last_instant(day: date) -> datetime:
    """The last instant of a day, one microsecond before `end_of_day`: the bound of a day for those
    reads that compare with `<=` (a day's events, assumptions as they stood that evening)."""
    return end_of_day(day) - timedelta(microseconds=1)


# The days a command may name (--as-of, --since, --now, ...): wide enough for any real event log,
# narrow enough that a window of weeks either side of the day is still a date Python can hold.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)


def check_day(day: date, what: str) -> date:
    """`day` if it lies in FIRST_DAY..LAST_DAY, else a ConfigError naming the option and the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ConfigError(f"{what} {day.isoformat()} is out of range; give a day from {FIRST_DAY} to {LAST_DAY}")
    return day
