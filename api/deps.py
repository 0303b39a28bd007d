"""Dependencies as types: settings, the champions, the caller's token with its role and rate limit.

Tests override `get_settings`, `get_champions` or `get_active_tokens` instead of touching shared state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import RateLimiter, ScoringSlots, retry_after
from api.metrics import Metrics
from api.settings import Settings
from core.access import auth
from core.errors import JourneyOpsError
from core.registry.artifacts import ArtifactRejectedError
from core.registry.versions import NoChampionError, RegistryError
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


class ChampionUnloadableError(JourneyOpsError):
    """A champion is registered but its model cannot be loaded (a missing, changed or damaged file)."""


def get_champions(cache: ChampionCacheDep) -> serving.Champions:
    """The champions serving now; ChampionUnloadableError (503) when one cannot be loaded."""
    try:
        return cache.get()
    except (ArtifactRejectedError, RegistryError) as exc:
        if isinstance(exc, NoChampionError):
            raise
        # The full reason names server paths: it goes to the log, the caller gets a short message.
        log.error("the champion model cannot be loaded: %s", exc)
        raise ChampionUnloadableError(
            "the champion model cannot be loaded; the server log says why (an operator restores its file "
            "or rolls back to another version)"
        ) from exc


ChampionsDep = Annotated[serving.Champions, Depends(get_champions)]


def get_forecast_cache(request: Request) -> forecasts.ForecastCache:
    """The app's in-memory forecasts of the latest morning."""
    return request.app.state.forecast_cache


ForecastCacheDep = Annotated[forecasts.ForecastCache, Depends(get_forecast_cache)]


class TokenCache:
    """The active tokens, re-read on the first request after a token was created or revoked.

    Every request looks at `auth.tokens_version` (two `stat` calls); when it moved, the tokens are
    read again before the request is answered, from the snapshot file beside the store (which needs
    no lock, so a job holding the store delays nothing) or, without a valid snapshot, from the store
    itself. If they cannot be read, the request is refused (503): a stale list could let a revoked
    token in. One request reads; the others that arrive meanwhile wait for it.
    """

    def __init__(self, store_path: str | None) -> None:
        self.store_path = store_path
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._records: list[auth.TokenRecord] | None = None
        self._version: tuple[object, ...] | None = None

    def _cached(self, version: tuple[object, ...]) -> list[auth.TokenRecord] | None:
        with self._lock:
            return self._records if self._records is not None and self._version == version else None

    def get(self) -> list[auth.TokenRecord]:
        """The active token records now; TokensUnavailableError when they cannot be read."""
        version = auth.tokens_version(self.store_path)
        records = self._cached(version)
        if records is not None:
            return records
        with self._read_lock:
            # Looked at again: a request that held the read lock may have read this very version.
            version = auth.tokens_version(self.store_path)
            records = self._cached(version)
            if records is not None:
                return records
            try:
                records = auth.active_tokens(self.store_path)
            except JourneyOpsError as exc:
                log.warning("could not read the API tokens; refusing until they can be read: %s", exc)
                raise TokensUnavailableError(
                    "the API tokens cannot be read right now (the store is busy or missing); try again shortly"
                ) from exc
            with self._lock:
                self._records, self._version = records, version
            return records


class TokensUnavailableError(JourneyOpsError):
    """The token list changed and cannot be read now: no token is accepted until it can be."""


def get_active_tokens(request: Request) -> list[auth.TokenRecord]:
    """The tokens that open the API now."""
    return request.app.state.token_cache.get()


ActiveTokensDep = Annotated[list[auth.TokenRecord], Depends(get_active_tokens)]

_bearer = HTTPBearer(auto_error=False, description="A token from `python -m core token create --role ROLE`")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_rate_limiter(request: Request) -> RateLimiter:
    """The app's per-token rate limiter."""
    return request.app.state.rate_limiter


def get_auth_failures(request: Request) -> RateLimiter:
    """The app's limiter of failed token attempts, per client address."""
    return request.app.state.auth_failures


def get_scoring_slots(request: Request) -> ScoringSlots:
    """The app's bound on concurrent scoring, per token and overall."""
    return request.app.state.scoring_slots


ScoringSlotsDep = Annotated[ScoringSlots, Depends(get_scoring_slots)]


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, what uvicorn's --proxy-headers makes of X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def check_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials,
    role: str,
    tokens: list[auth.TokenRecord],
    limiter: RateLimiter,
    failures: RateLimiter,
) -> auth.TokenRecord:
    """The caller's token record: known and active (401), allowing `role` (403), within its rate
    (429); an address with too many failed attempts is refused (429) before its token is looked at."""
    address = client_address(request)
    wait_s = failures.peek(address)
    if wait_s > 0:
        raise HTTPException(
            429,
            "too many failed token attempts from this address; wait before trying again",
            {"Retry-After": retry_after(wait_s)},
        )
    record = auth.match_token(credentials.credentials, tokens)
    if record is None:
        failures.take(address)
        log.warning("failed token attempt", extra={"client": address})
        raise HTTPException(401, "the token is unknown or revoked; ask for a new one", UNAUTHORIZED)
    if not auth.role_allows(record.role, role):
        raise HTTPException(403, f"a {record.role} token may not do this; it needs the {role} role")
    wait_s = limiter.take(record.token_id)
    if wait_s > 0:
        raise HTTPException(429, "too many requests for this token; slow down", {"Retry-After": retry_after(wait_s)})
    return record


def require_role(role: str) -> Callable[..., auth.TokenRecord]:
    """A dependency: the caller's token, which must be active (401), allow `role` (403) and be
    within its rate (429)."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        tokens: ActiveTokensDep,
        limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
        failures: Annotated[RateLimiter, Depends(get_auth_failures)],
    ) -> auth.TokenRecord:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "no bearer token; send `Authorization: Bearer <token>`", UNAUTHORIZED)
        return check_token(request, credentials, role, tokens, limiter, failures)

    return check


def optional_role(role: str) -> Callable[..., auth.TokenRecord | None]:
    """A dependency: None without an Authorization header, else the checks of `require_role`."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
        failures: Annotated[RateLimiter, Depends(get_auth_failures)],
    ) -> auth.TokenRecord | None:
        if "authorization" not in request.headers:
            return None
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "no bearer token; send `Authorization: Bearer <token>`", UNAUTHORIZED)
        # Read only when a token is shown: an anonymous probe never waits for the token list. (Called
        # by hand, so a test's override of get_active_tokens is honoured by hand too.)
        override = request.app.dependency_overrides.get(get_active_tokens)
        tokens = override() if override is not None else get_active_tokens(request)
        return check_token(request, credentials, role, tokens, limiter, failures)

    return check


ReaderDep = Annotated[auth.TokenRecord, Depends(require_role("reader"))]
ScorerDep = Annotated[auth.TokenRecord, Depends(require_role("scorer"))]
OptionalReaderDep = Annotated[auth.TokenRecord | None, Depends(optional_role("reader"))]
