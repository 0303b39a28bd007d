"""Request limits: a body-size cap (413), a per-token rate limit and a per-address limit of failed
token attempts (token buckets, 429), and a bound on concurrent scoring per token and overall (429)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` (declared or streamed) gets 413 before any route reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(send)
                return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (a chunked body): read it here, up to the cap, then hand it on whole.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"the request body is larger than {self.max_bytes} bytes; send a shorter journey"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A token bucket per key (an API token's id, or a client address): `rate_per_s` refill, up to
    `burst` at once. Buckets that have filled up again are dropped once there are `max_keys` of them,
    so many one-off keys (addresses) cannot grow it without end."""

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        level, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), level + (now - at) * self.rate_per_s)

    def take(self, key: str) -> float:
        """Take one request's worth: 0 if allowed, else the seconds to wait before the next one is."""
        with self._lock:
            now = self.clock()
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._buckets = {k: v for k, v in self._buckets.items() if self._level(k, now) < self.burst}
            level = self._level(key, now)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate_per_s

    def peek(self, key: str) -> float:
        """0 if a request would be allowed now, else the seconds to wait; takes nothing."""
        with self._lock:
            level = self._level(key, self.clock())
        return 0.0 if level >= 1.0 else (1.0 - level) / self.rate_per_s


class ScoringBusyError(Exception):
    """No scoring slot is free for this token (or at all): answer 429 with Retry-After."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ScoringSlots:
    """At most `per_token` scorings at once for one token and `total` for all: scoring is CPU-heavy
    (a few per second), so a request beyond the bound is refused at once (429) instead of queueing
    for a thread that the reads and the health checks need."""

    def __init__(self, total: int, per_token: int, retry_after_s: float = 1.0) -> None:
        self.total = total
        self.per_token = per_token
        self.retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    @property
    def running(self) -> int:
        """How many scorings hold a slot now."""
        with self._lock:
            return sum(self._running.values())

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold one slot for `key` while the block runs; ScoringBusyError if none is free."""
        with self._lock:
            mine = self._running.get(key, 0)
            if mine >= self.per_token:
                raise ScoringBusyError(
                    f"this token already has {mine} scoring requests running; wait for them before sending more",
                    self.retry_after_s,
                )
            if sum(self._running.values()) >= self.total:
                raise ScoringBusyError("the scoring service is at capacity; try again shortly", self.retry_after_s)
            self._running[key] = mine + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[key] - 1
                if left:
                    self._running[key] = left
                else:
                    del self._running[key]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
