"""Request and response bodies of the API, with the limits every field must keep."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_EVENTS = 500
MAX_ATTRS = 50
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(2200, 1, 1)


def _in_range(value: datetime) -> datetime:
    """Instants are stored in UTC without a zone; far-off years are refused, not overflowed."""
    refusal = f"must be between {EARLIEST.date()} and {LATEST.date()}"
    # Judged on the local date first: converting year 1 or 9999 with an offset overflows (was a 500).
    if not EARLIEST.year <= value.year < LATEST.year:
        raise ValueError(refusal)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if not EARLIEST <= value < LATEST:
        raise ValueError(refusal)
    return value


Instant = Annotated[datetime, AfterValidator(_in_range)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OrderId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
AttrValue = (
    Annotated[str, StringConstraints(max_length=1000)] | Annotated[float, Field(allow_inf_nan=False)] | bool | None
)
Attrs = Annotated[dict[Text, AttrValue], Field(max_length=MAX_ATTRS)]


class Reason(BaseModel):
    """Why an order is at risk: a feature, its effect, and the sentence a person reads."""

    model_config = ConfigDict(extra="allow")

    feature: str | None = None
    effect: float | str | None = None
    text: str | None = None


class ForecastOut(BaseModel):
    """The latest forecast of one order, as the daily job scored it with the champion."""

    order_id: str
    as_of_date: date
    as_of_at: datetime
    current_stage: str | None
    elapsed_h: float | None
    p10_h: float | None
    p50_h: float | None
    p90_h: float | None
    eta_p10_at: datetime | None
    eta_p50_at: datetime | None
    eta_p90_at: datetime | None
    stuck_prob: float | None
    reasons: list[Reason]
    forecaster_version: str | None
    classifier_version: str | None
    scored_at: datetime


class AtRiskOrder(BaseModel):
    """One row of the at-risk list."""

    rank: int
    order_id: str
    expected_cost: float
    stuck_prob: float
    reasons: list[Reason]
    eta_p10_at: datetime | None
    eta_p50_at: datetime | None
    eta_p90_at: datetime | None
    warehouse: str | None
    carrier: str | None
    region: str | None


class AtRiskOut(BaseModel):
    """One morning's at-risk list, ranked by expected cost of delay, held-out orders excluded."""

    as_of_date: date | None
    count: int
    orders: list[AtRiskOrder]


class OrderIn(BaseModel):
    """The order's attributes; any left out are unknown (as in a feed that lacks them)."""

    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    placed_at: Instant | None = None
    channel: Text | None = None
    region: Text | None = None
    customer_tier: Text | None = None
    category: Text | None = None
    order_value: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None
    items: Annotated[int, Field(ge=0, le=100_000)] | None = None
    payment_method: Text | None = None
    ship_mode: Text | None = None
    warehouse: Text | None = None
    carrier: Text | None = None
    promised_at: Instant | None = None
    attrs: Attrs | None = None


class EventIn(BaseModel):
    """One event of the journey: its stage (activity) and when it happened (no zone means UTC)."""

    model_config = ConfigDict(extra="forbid")

    stage: Text
    event_ts: Instant
    event_id: Text | None = None
    attrs: Attrs | None = None


class ScoreIn(BaseModel):
    """A journey so far, to be scored at `as_of` (default: the later of its last event and the store's)."""

    model_config = ConfigDict(extra="forbid")

    order: OrderIn
    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]
    as_of: Instant | None = None


class ScoreOut(BaseModel):
    """The online score of a posted journey: what the batch would give for the same input."""

    order_id: str
    as_of_at: datetime
    current_stage: str
    elapsed_h: float
    p10_h: float
    p50_h: float
    p90_h: float
    eta_p10_at: datetime
    eta_p50_at: datetime
    eta_p90_at: datetime
    stuck_prob: float
    reasons: list[Reason]
    forecaster_version: str
    classifier_version: str


class Health(BaseModel):
    """Liveness or readiness, with what was checked."""

    status: str
    checks: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    """An error: what is wrong and what to do, never a stack trace."""

    detail: str


class FieldError(BaseModel):
    """One invalid field: where it is and why it was refused."""

    field: str
    message: str


class ValidationErrorOut(BaseModel):
    """A request that failed validation, one entry per invalid field."""

    detail: str
    errors: list[FieldError]


# Answers every authenticated route can give besides its own; documented so clients (and schemathesis) know them.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "The token's role may not do this"},
    413: {"model": ErrorOut, "description": "The request body is too large"},
    422: {"model": ValidationErrorOut, "description": "Invalid request: which field and why"},
    429: {"model": ErrorOut, "description": "Too many requests for this token; see Retry-After"},
    503: {"model": ErrorOut, "description": "The store is busy or not ready; see Retry-After"},
}
