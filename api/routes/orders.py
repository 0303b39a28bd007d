"""GET /v1/orders/{order_id}/forecast: the latest forecast of one order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from api.deps import ReaderDep, SettingsDep
from api.schemas import ErrorOut, ForecastOut
from core import serving

router = APIRouter(tags=["orders"])


@router.get(
    "/v1/orders/{order_id}/forecast",
    response_model=ForecastOut,
    responses={404: {"model": ErrorOut, "description": "No forecast for this order"}},
)
def get_forecast(
    _: ReaderDep,
    settings: SettingsDep,
    order_id: Annotated[str, Path(min_length=1, max_length=100)],
) -> ForecastOut:
    """ETA p50 and interval, probability of getting stuck, reasons, model versions and as-of."""
    row = serving.read_forecast(order_id, settings.store_path)
    if row is None:
        raise HTTPException(404, f"no forecast for order {order_id}: it is unknown, ended, or not scored yet")
    return ForecastOut.model_validate(row)
