"""Benchmark `api`: single-order forecast latency against a real uvicorn server, open loop.

Set-up (untimed): the default demo store (`python -m core demo`, 42 days × 600 orders/day), the one
`bench.daily` builds (reused through its marker); each case serves its own copy of it (the API
writes tokens). The case process creates a reader token, starts uvicorn on 127.0.0.1 with
`api.loadgen.start_server` (one worker, OpenMP on one thread, as `make api` runs it) and warms up
with 20 requests, untimed.
Subject: `api.loadgen.open_loop` — GET /v1/orders/{id}/forecast sent at fixed instants, 50 req/s for
60 s (10 s at small scale), over the orders the latest scoring forecast; figures p50/p99/max ms and
errors; `server_peak_rss_mb` is the uvicorn process's VmHWM (the case's peak RSS is the load
generator's). Baseline: GET /healthz at the same rate and duration on its own server — the floor of
the server, the client threads and the (shared) machine; `healthz_p99_ms` is its p99.
The timed seconds are the load's duration by construction; the latency figures are the result.
Not in plain `make bench` (minutes of fixed-rate load): run it with `python -m bench --only api`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import daily
from bench.harness import Benchmark, Call, Plan, Target

RATE = 50.0
DURATION_S = {"small": 10.0, "full": 60.0}


def _serve(template_store: str, copy_dir: str) -> tuple[Any, Any, Any, Path]:
    from api import loadgen
    from core.access import auth

    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    store = Path(copy_dir) / Path(template_store).name
    _record, token = auth.create_token("reader", "bench", store)
    order_ids, _bodies = loadgen.load_journeys(store)
    port = loadgen._free_port()
    server = loadgen.start_server(store, port)
    client = loadgen.Client(port, token)
    for order_id in order_ids[:20]:  # warm-up: connections, caches
        client.call("GET", f"/v1/orders/{order_id}/forecast")
    return server, client, order_ids, store


def _server_peak_mb(server: Any) -> float | None:
    # The case's own peak RSS is the load generator's; the server is its own process.
    try:
        for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return None


def _stop(server: Any) -> float | None:
    peak = _server_peak_mb(server)
    server.terminate()
    server.wait(timeout=10)
    return peak


def prepare_forecasts(
    template_store: str, copy_dir: str, duration_s: float
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Time an open-loop run of single-order forecasts at RATE req/s."""
    from api import loadgen

    server, client, order_ids, _ = _serve(template_store, copy_dir)
    peaks: list[float | None] = []

    def run() -> dict[str, Any]:
        try:
            return loadgen.open_loop(
                lambda i: client.call("GET", f"/v1/orders/{order_ids[i % len(order_ids)]}/forecast"),
                RATE,
                duration_s,
            )
        finally:
            peaks.append(_stop(server))

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "orders": len(order_ids), "server_peak_rss_mb": peaks[0] if peaks else None}

    return run, summarise


def prepare_healthz(
    template_store: str, copy_dir: str, duration_s: float
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: GET /healthz open loop at the same rate and duration."""
    from api import loadgen

    server, client, _, _ = _serve(template_store, copy_dir)

    def run() -> dict[str, Any]:
        try:
            return loadgen.open_loop(lambda i: client.call("GET", "/healthz"), RATE, duration_s)
        finally:
            _stop(server)

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "healthz_p50_ms": summary["p50_ms"], "healthz_p99_ms": summary["p99_ms"]}

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """The demo store of `bench.daily` at this scale, served twice: forecasts, then /healthz."""
    days, per_day = daily.SIZES[scale]
    template = daily.template_path(work_dir)
    duration = DURATION_S[scale]
    return Plan(
        workload=f"{RATE:.0f} req/s for {duration:.0f} s on a {days}-day × {per_day:,} orders/day demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED},
            ),
        ),
        subject=Call(
            "bench.api:prepare_forecasts",
            {"template_store": str(template), "copy_dir": str(work_dir / "api_store"), "duration_s": duration},
        ),
        baseline=Call(
            "bench.api:prepare_healthz",
            {"template_store": str(template), "copy_dir": str(work_dir / "api_store_healthz"), "duration_s": duration},
        ),
    )


BENCHMARK = Benchmark(
    name="api",
    what="GET /v1/orders/{id}/forecast against a real uvicorn (1 worker), open loop at 50 req/s "
    "(`api.loadgen.open_loop`); p50/p99/max latency and errors in results.json",
    baseline_what="GET /healthz at the same rate and duration on its own server",
    plan=plan,
    count="requests",
    unit="requests",
    targets=(
        Target("p99_ms", "<=", 25.0, "forecast p99 ≤ 25 ms"),
        Target("errors", "<=", 0.0, "0 errors", scales=("small", "full")),
    ),
    figures=("p50_ms", "p99_ms", "errors", "healthz_p99_ms", "server_peak_rss_mb"),
    default=False,  # ~2 min of fixed-rate load a scale: `python -m bench --only api`
)
