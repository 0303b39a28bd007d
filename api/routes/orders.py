"""GET /v1/orders/{order_id}/forecast: the latest forecast of one order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from api.deps import ForecastCacheDep, ReaderDep
from api.schemas import ErrorOut, ForecastOut

router = APIRouter(tags=["orders"])


@router.get(
    "/v1/orders/{order_id}/forecast",
    response_model=ForecastOut,
    responses={404: {"model": ErrorOut, "description": "No forecast for this order"}},
)
def get_forecast(
    _: ReaderDep,
    forecasts: ForecastCacheDep,
    order_id: Annotated[str, Path(min_length=1, max_length=100)],
) -> ForecastOut:
    """ETA p50 and interval, probability of getting stuck, reasons, model versions and as-of."""
    row = forecasts.get(order_id)
    if row is None:
        raise HTTPException(404, f"no forecast for order {order_id}: it is unknown, ended, or not scored yet")
    return ForecastOut.model_validate(row)
