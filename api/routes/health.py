"""GET /healthz (process up), /readyz (store readable, champion loaded), /metrics (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import ChampionCacheDep, MetricsDep, SettingsDep
from api.schemas import Health
from core.errors import JourneyOpsError
from core.scoring import forecasts, serving

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def get_healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health, "description": "Not ready"}})
def get_readyz(settings: SettingsDep, cache: ChampionCacheDep) -> Health | JSONResponse:
    """Ready when the store can be read and both champions are loaded."""
    checks: dict[str, object] = {}
    try:
        checks["store"] = forecasts.check_ready(settings.store_path)
        checks["champions"] = cache.get().versions
    except JourneyOpsError as exc:
        checks["error"] = str(exc)
        return JSONResponse(Health(status="not ready", checks=checks).model_dump(), status_code=503)
    return Health(status="ready", checks=checks)


@router.get("/metrics", response_class=PlainTextResponse)
def get_metrics_text(metrics: MetricsDep, cache: ChampionCacheDep) -> PlainTextResponse:
    """Requests, latencies, errors and the champions' versions in the Prometheus text format."""
    try:
        champions: serving.Champions | None = cache.get()
    except JourneyOpsError:
        champions = cache.peek()
    text = metrics.render(champions.versions if champions else {})
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
