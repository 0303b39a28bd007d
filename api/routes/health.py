"""GET /healthz (process up), /readyz (store readable, champion loaded), /metrics (Prometheus text).

Anonymous callers (probes) learn only whether the service is up and ready; what was checked (row
counts, champion versions, why it is not ready) and the metrics need a reader token, unless
`metrics_public` opens /metrics to a scraper on a private network.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import UNAUTHORIZED, ChampionCacheDep, MetricsDep, OptionalReaderDep, SettingsDep
from api.errors import without_paths
from api.schemas import COMMON_RESPONSES, Health
from core.errors import JourneyOpsError
from core.scoring import forecasts, serving

router = APIRouter(tags=["health"])
# A token is optional here; when one is sent, these are its answers (401 also: /metrics without one).
_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {code: COMMON_RESPONSES[code] for code in (401, 403, 429)}


@router.get("/healthz", response_model=Health)
async def get_healthz() -> Health:
    """The process is up (answered on the event loop: no worker thread needed, however busy they are)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready"}, **_AUTH_RESPONSES},
)
def get_readyz(settings: SettingsDep, cache: ChampionCacheDep, caller: OptionalReaderDep) -> Health | JSONResponse:
    """Ready when the store can be read and both champions are loaded; with a token, what was checked."""
    checks: dict[str, object] = {}
    try:
        checks["store"] = forecasts.check_ready(settings.store_path)
        checks["champions"] = cache.get().versions
    except JourneyOpsError as exc:
        checks = {"error": without_paths(str(exc))}
        shown = checks if caller is not None else {}
        return JSONResponse(Health(status="not ready", checks=shown).model_dump(), status_code=503)
    return Health(status="ready", checks=checks if caller is not None else {})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses=_AUTH_RESPONSES,
)
def get_metrics_text(
    settings: SettingsDep, metrics: MetricsDep, cache: ChampionCacheDep, caller: OptionalReaderDep
) -> PlainTextResponse:
    """Requests, latencies, errors and the champions' versions in the Prometheus text format."""
    if caller is None and not settings.metrics_public:
        raise HTTPException(401, "no bearer token; send `Authorization: Bearer <token>`", UNAUTHORIZED)
    try:
        champions: serving.Champions | None = cache.get()
    except JourneyOpsError:  # metrics answer whatever the champion's state; readyz says why
        champions = cache.peek()
    text = metrics.render(champions.versions if champions else {})
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
