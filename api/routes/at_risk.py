"""GET /v1/at-risk: the day's at-risk list, held-out orders excluded."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ReaderDep, SettingsDep
from api.schemas import AtRiskOut
from core.scoring import forecasts

router = APIRouter(tags=["triage"])

MAX_LIMIT = 500
Filter = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/v1/at-risk", response_model=AtRiskOut)
def get_at_risk(
    _: ReaderDep,
    settings: SettingsDep,
    as_of: Annotated[date | None, Query(description="the morning's date (default: the latest list)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    min_stuck_prob: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    warehouse: Filter = None,
    carrier: Filter = None,
    region: Filter = None,
) -> AtRiskOut:
    """The ranked list of one morning, most expected cost of delay first."""
    rows = forecasts.read_at_risk(
        settings.store_path,
        as_of_date=as_of,
        limit=limit,
        min_stuck_prob=min_stuck_prob,
        warehouse=warehouse,
        carrier=carrier,
        region=region,
    )
    as_of_date = rows[0]["as_of_date"] if rows else as_of
    return AtRiskOut.model_validate({"as_of_date": as_of_date, "count": len(rows), "orders": rows})
