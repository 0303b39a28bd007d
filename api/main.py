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

from api.deps import ChampionUnloadableError, TokenCache, TokensUnavailableError
from api.errors import without_paths
from api.limits import BodySizeLimit, RateLimiter, ScoringBusyError, ScoringSlots, retry_after
from api.metrics import Metrics
from api.routes import at_risk, health, orders, score
from api.schemas import COMMON_RESPONSES
from api.settings import Settings, get_default_settings
from core import logs
from core.errors import JourneyOpsError, StoreBusyError, StoreDamagedError, StoreMissingError, StoreWriteError
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


DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # Answers carry forecasts and need a token: no shared or browser cache keeps them.
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """ASGI middleware: every response says no sniffing, no framing, no referrer, no caching; JSON
    answers also load nothing (the docs pages, when on, need their scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = (
            b"frame-ancestors 'none'"
            if scope.get("path") in DOCS_PATHS
            else b"default-src 'none'; frame-ancestors 'none'"
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (k, v) for k, v in [*_SECURITY_HEADERS, (b"content-security-policy", policy)] if k not in names
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


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

    def unavailable_now(message: str) -> JSONResponse:
        return JSONResponse(
            {"detail": message}, status_code=503, headers={"Retry-After": retry_after(settings.busy_retry_after_s)}
        )

    @app.exception_handler(StoreBusyError)
    async def store_busy(_: Request, exc: StoreBusyError) -> JSONResponse:
        return unavailable_now(
            "the store is locked by another process (a job writing to it); try again when it has finished"
        )

    @app.exception_handler(ScoringBusyError)
    async def scoring_busy(_: Request, exc: ScoringBusyError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": retry_after(exc.retry_after_s)}
        )

    @app.exception_handler(serving.NotScorableError)
    async def not_scorable(_: Request, exc: serving.NotScorableError) -> JSONResponse:
        message = without_paths(str(exc))
        errors = [{"field": f, "message": without_paths(m)} for f, m in getattr(exc, "errors", ())]
        return JSONResponse(
            {"detail": message, "errors": errors or [{"field": "body.events", "message": message}]}, status_code=422
        )

    @app.exception_handler(JourneyOpsError)
    async def unavailable(_: Request, exc: JourneyOpsError) -> JSONResponse:
        if isinstance(exc, StoreMissingError):
            return unavailable_now("the store is not there yet; build it with the daily job, then try again")
        if isinstance(exc, StoreDamagedError | StoreWriteError):
            # The operator's fix is on the server (its log has the path and the advice), not the caller's.
            log.error("store unavailable: %s", exc)
            return unavailable_now("the store cannot be read or written right now; the operator has been told")
        # No champion yet, no forecast tables, a champion that cannot be loaded, unreadable tokens:
        # the service cannot answer for now.
        if isinstance(
            exc, NoChampionError | serving.ServingUnavailableError | ChampionUnloadableError | TokensUnavailableError
        ):
            return unavailable_now(without_paths(str(exc)))
        return JSONResponse({"detail": without_paths(str(exc))}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app for these settings (default: from the environment)."""
    settings = settings or get_default_settings()
    logs.configure()
    docs = settings.docs_enabled
    app = FastAPI(
        title="JourneyOps API",
        version=VERSION,
        description="Delivery forecasts, the at-risk list and online scoring of order journeys.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.champion_cache = serving.ChampionCache(settings.store_path, settings.champion_check_s)
    app.state.forecast_cache = forecasts.ForecastCache(
        settings.store_path, settings.forecast_check_s, background=settings.forecast_check_s > 0
    )
    app.state.token_cache = TokenCache(settings.store_path)
    app.state.rate_limiter = RateLimiter(settings.rate_per_s, settings.rate_burst)
    app.state.auth_failures = RateLimiter(settings.auth_fail_rate_per_s, settings.auth_fail_burst)
    app.state.scoring_slots = ScoringSlots(settings.score_concurrency, settings.score_concurrency_per_token)
    app.include_router(health.router)
    for router in (orders.router, at_risk.router, score.router):
        app.include_router(router, responses=COMMON_RESPONSES)
    _install_error_handlers(app, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn api.main:app` builds the app on first use, not at import (tests import this module).
    if name == "app":
        return create_app()
    raise AttributeError(name)
