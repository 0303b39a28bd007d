"""The API application: `create_app(settings)` wires routes, limits, metrics and error handling.

Run it with `make api` (uvicorn `api.main:app`, or `--factory api.main:create_app`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import TokenCache
from api.limits import BodySizeLimit, RateLimiter, retry_after
from api.metrics import Metrics
from api.routes import at_risk, health, orders, score
from api.schemas import COMMON_RESPONSES
from api.settings import Settings, get_default_settings
from core import logs
from core.errors import JourneyOpsError, StoreBusyError, StoreMissingError
from core.registry.versions import NoChampionError
from core.scoring import forecasts, serving

log = logging.getLogger("journeyops.api")
VERSION = "1.0.0"


class RequestMetrics:
    """ASGI middleware: every request's route template, status and latency go to `metrics`."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        # Each request is a run of its own in the JSON logs: its lines share one id.
        with logs.run_context():
            try:
                await self.app(scope, receive, recording_send)
            finally:
                route = scope.get("route")
                name = getattr(route, "path", None) or "unmatched"
                elapsed = time.perf_counter() - started
                self.metrics.observe(name, scope.get("method", ""), status, elapsed)
                log.info(
                    "request",
                    extra={
                        "method": scope.get("method", ""),
                        "route": name,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
        return JSONResponse({"detail": "the request is invalid; see errors", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StoreBusyError)
    async def store_busy(_: Request, exc: StoreBusyError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=503, headers={"Retry-After": retry_after(settings.busy_retry_after_s)}
        )

    @app.exception_handler(serving.NotScorableError)
    async def not_scorable(_: Request, exc: serving.NotScorableError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "errors": [{"field": "body.events", "message": str(exc)}]}, status_code=422
        )

    @app.exception_handler(JourneyOpsError)
    async def unavailable(_: Request, exc: JourneyOpsError) -> JSONResponse:
        # A missing store, no champion yet, no forecast tables: the service cannot answer for now.
        if isinstance(exc, StoreMissingError | NoChampionError | serving.ServingUnavailableError):
            return JSONResponse(
                {"detail": str(exc)}, status_code=503, headers={"Retry-After": retry_after(settings.busy_retry_after_s)}
            )
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app for these settings (default: from the environment)."""
    settings = settings or get_default_settings()
    logs.configure()
    app = FastAPI(
        title="JourneyOps API",
        version=VERSION,
        description="Delivery forecasts, the at-risk list and online scoring of order journeys.",
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.champion_cache = serving.ChampionCache(settings.store_path, settings.champion_check_s)
    app.state.forecast_cache = forecasts.ForecastCache(
        settings.store_path, settings.forecast_check_s, background=settings.forecast_check_s > 0
    )
    app.state.token_cache = TokenCache(settings.store_path, settings.token_check_s)
    app.state.rate_limiter = RateLimiter(settings.rate_per_s, settings.rate_burst)
    app.include_router(health.router)
    for router in (orders.router, at_risk.router, score.router):
        app.include_router(router, responses=COMMON_RESPONSES)
    _install_error_handlers(app, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn api.main:app` builds the app on first use, not at import (tests import this module).
    if name == "app":
        return create_app()
    raise AttributeError(name)
