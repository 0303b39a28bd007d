"""Dependencies as types: settings, the champions, the caller's token with its role and rate limit.

Tests override `get_settings`, `get_champions` or `get_active_tokens` instead of touching shared state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import RateLimiter, retry_after
from api.metrics import Metrics
from api.settings import Settings
from core.access import auth
from core.scoring import forecasts, serving

log = logging.getLogger("journeyops.api")


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_metrics(request: Request) -> Metrics:
    """The app's request metrics."""
    return request.app.state.metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def get_champion_cache(request: Request) -> serving.ChampionCache:
    """The app's champion cache (reloads on a promotion or rollback)."""
    return request.app.state.champion_cache


ChampionCacheDep = Annotated[serving.ChampionCache, Depends(get_champion_cache)]


def get_champions(cache: ChampionCacheDep) -> serving.Champions:
    """The champions serving now."""
    return cache.get()


ChampionsDep = Annotated[serving.Champions, Depends(get_champions)]


def get_forecast_cache(request: Request) -> forecasts.ForecastCache:
    """The app's in-memory forecasts of the latest morning."""
    return request.app.state.forecast_cache


ForecastCacheDep = Annotated[forecasts.ForecastCache, Depends(get_forecast_cache)]


class TokenCache:
    """The active tokens, re-read when the store's files have changed (looked at every `check_every_s`,
    so a revoke lands within it).

    Looking is a `stat`; only a change costs a read, and that read runs in a background thread while
    requests go on with the tokens they have: opening the store takes tens of milliseconds on a busy
    machine. With `check_every_s` = 0 every request looks and a change is read at once (tests).
    """

    def __init__(self, store_path: str | None, check_every_s: float) -> None:
        self.store_path = store_path
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._records: list[auth.TokenRecord] | None = None
        self._fingerprint: tuple[tuple[int, int] | None, ...] | None = None
        self._checked_at = float("-inf")
        self._reading = False

    def _read(self, fingerprint: tuple[tuple[int, int] | None, ...]) -> list[auth.TokenRecord]:
        try:
            records = auth.list_tokens(self.store_path, only_active=True)
            with self._lock:
                self._records, self._fingerprint = records, fingerprint
            return records
        finally:
            with self._lock:
                self._reading = False

    def _read_quietly(self, fingerprint: tuple[tuple[int, int] | None, ...]) -> None:
        try:
            self._read(fingerprint)
        except Exception:  # a busy or missing store: keep the tokens read before, try again later
            log.warning("could not re-read the API tokens; keeping the previous ones", exc_info=True)

    def get(self) -> list[auth.TokenRecord]:
        """The active token records."""
        changed = None
        with self._lock:
            records = self._records
            now = time.monotonic()
            if (records is None or now - self._checked_at >= self.check_every_s) and not self._reading:
                self._checked_at = now
                # Fingerprint before the read: a write landing during it is seen on the next look.
                fingerprint = forecasts.store_fingerprint(self.store_path)
                if records is None or fingerprint != self._fingerprint:
                    self._reading = True
                    changed = fingerprint
        if changed is None:
            if records is None:  # another request is doing the first read: do it too
                return auth.list_tokens(self.store_path, only_active=True)
            return records
        if records is not None and self.check_every_s > 0:
            threading.Thread(target=self._read_quietly, args=(changed,), name="token-refresh", daemon=True).start()
            return records
        return self._read(changed)


def get_active_tokens(request: Request) -> list[auth.TokenRecord]:
    """The tokens that open the API now."""
    return request.app.state.token_cache.get()


ActiveTokensDep = Annotated[list[auth.TokenRecord], Depends(get_active_tokens)]

_bearer = HTTPBearer(auto_error=False, description="A token from `python -m core token create --role ROLE`")
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_rate_limiter(request: Request) -> RateLimiter:
    """The app's per-token rate limiter."""
    return request.app.state.rate_limiter


def require_role(role: str) -> Callable[..., auth.TokenRecord]:
    """A dependency: the caller's token, which must be active (401), allow `role` (403) and be
    within its rate (429)."""

    def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        tokens: ActiveTokensDep,
        limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    ) -> auth.TokenRecord:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "no bearer token; send `Authorization: Bearer <token>`", _UNAUTHORIZED)
        record = auth.match_token(credentials.credentials, tokens)
        if record is None:
            raise HTTPException(401, "the token is unknown or revoked; ask for a new one", _UNAUTHORIZED)
        if not auth.role_allows(record.role, role):
            raise HTTPException(403, f"a {record.role} token may not do this; it needs the {role} role")
        wait_s = limiter.take(record.token_id)
        if wait_s > 0:
            raise HTTPException(
                429, "too many requests for this token; slow down", {"Retry-After": retry_after(wait_s)}
            )
        return record

    return check


ReaderDep = Annotated[auth.TokenRecord, Depends(require_role("reader"))]
ScorerDep = Annotated[auth.TokenRecord, Depends(require_role("scorer"))]
