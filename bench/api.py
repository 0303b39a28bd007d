"""Benchmark `api`: single-order forecast latency against a real uvicorn server, open loop.

Set-up (untimed): the default demo store (`python -m core demo`, 42 days × 600 orders/day), the one
`bench.daily` builds (reused through its marker); each case serves its own copy of it (the API
writes tokens). The case process creates a reader token, starts uvicorn on 127.0.0.1 with
`api.loadgen.start_server` (one worker, OpenMP on one thread, as `make api` runs it) and warms up
with 20 requests, untimed.
Subject: `scheduled_open_loop` — GET /v1/orders/{id}/forecast due at fixed instants, 50 req/s for 60 s
(10 s at small scale). Each request's latency runs from its *scheduled* instant to its answer, so a
request that waits (for a client thread, a connection, or a server busy with the ones before it)
counts its wait: no coordinated omission (the time from its own `send()` is kept apart as
`service_p50_ms`/`service_p99_ms`). The ids are a realistic set, not 200 ids in a cycle: drawn at
random (seeded) from every order the latest scoring forecast — the in-memory path — and, for
`EARLIER_SHARE` of the requests, from orders forecast on earlier mornings only (ended since, most of
them: the route's 404 "unknown, ended, or not scored" is then the right answer, not an error).
Figures p50/p99/max ms and errors; `server_peak_rss_mb` is the uvicorn process's VmHWM (the case's
peak RSS is the load generator's; the table shows the server's).
Baseline: GET /healthz on the same schedule on its own server — the floor of the server, the client
threads and the (shared) machine; `healthz_p99_ms` is its p99.
The timed seconds are the load's duration by construction; the latency figures are the result.
Not in plain `make bench` (minutes of fixed-rate load): run it with `python -m bench --only api`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import daily
from bench.harness import Benchmark, Call, Plan, Target

RATE = 50.0
DURATION_S = {"small": 10.0, "full": 60.0}
WORKERS = 32  # client threads; a request due while all are busy waits, and its wait counts
EARLIER_SHARE = 0.1  # of the requests: orders forecast on an earlier morning only (read from the store)
SEED = 7
# Orders a champion forecast on some morning but not on the latest one (delivered since).
EARLIER_ORDERS_SQL = """
select distinct order_id from predictions
where role = 'champion'
  and order_id not in (
    select order_id from predictions
    where role = 'champion'
      and as_of_at = (select max(as_of_at) from predictions where role = 'champion')
  )
order by order_id
"""


def _quantile_ms(values: Sequence[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(np.asarray(values) * 1000.0, q)), 2) if len(values) else None


def _ok_if_200(i: int, status: int) -> bool:
    return status == 200


def scheduled_open_loop(
    send: Callable[[int], int],
    rate: float,
    duration_s: float,
    workers: int = WORKERS,
    ok: Callable[[int, int], bool] = _ok_if_200,
) -> dict[str, Any]:
    """Request i is due at start + i/rate and handed to a pool of `workers` threads then; its latency
    runs from that due instant to its answer (queueing for a thread, a connection or the server
    included), its service time from its own send(). `send(i)` returns the HTTP status (0: failed);
    `ok(i, status)` says whether that is the right answer to request i (else it is an error)."""
    from concurrent.futures import ThreadPoolExecutor

    total = int(rate * duration_s)
    latency: list[float] = [0.0] * total
    service: list[float] = [0.0] * total
    status: list[int] = [0] * total
    late_sends = 0

    def one(i: int, due: float) -> None:
        began = time.perf_counter()
        try:
            status[i] = send(i)
        except Exception:  # noqa: BLE001 - a failed request is an error figure, not a crash of the load
            status[i] = 0
        done = time.perf_counter()
        latency[i], service[i] = done - due, done - began

    start = time.perf_counter() + 0.01
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(total):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.005:
                late_sends += 1
            pool.submit(one, i, due)
    wall = time.perf_counter() - start
    statuses: dict[str, int] = {}
    for code in status:
        statuses[str(code)] = statuses.get(str(code), 0) + 1
    return {
        "requests": total,
        "errors": sum(1 for i, code in enumerate(status) if not ok(i, code)),
        "statuses": statuses,
        "rate_per_s": rate,
        "duration_s": duration_s,
        "workers": workers,
        "throughput_per_s": round(total / wall, 2) if wall > 0 else None,
        "p50_ms": _quantile_ms(latency, 50),
        "p99_ms": _quantile_ms(latency, 99),
        "max_ms": round(max(latency) * 1000.0, 2) if total else None,
        "service_p50_ms": _quantile_ms(service, 50),
        "service_p99_ms": _quantile_ms(service, 99),
        "sends_late_over_5ms": late_sends,
        "latency_from": "scheduled instant",
    }


def expected_status(ids: Sequence[str], latest: Sequence[str]) -> Callable[[int, int], bool]:
    """The right answers: 200 for an order the latest scoring forecast; for one forecast only on an
    earlier morning (ended since, most of them), 200 or the route's 404 "unknown, ended, or not scored"."""
    scored = set(latest)
    return lambda i, status: status == 200 or (status == 404 and ids[i] not in scored)


def request_ids(latest: Sequence[str], earlier: Sequence[str], n: int, seed: int = SEED) -> list[str]:
    """n order ids: uniform over `latest`, and over `earlier` for EARLIER_SHARE of them (when any)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    from_earlier = rng.random(n) < EARLIER_SHARE if len(earlier) else np.zeros(n, dtype=bool)
    latest_pick = rng.integers(0, len(latest), n)
    earlier_pick = rng.integers(0, max(len(earlier), 1), n)
    return [str(earlier[earlier_pick[i]]) if from_earlier[i] else str(latest[latest_pick[i]]) for i in range(n)]


def realistic_ids(store_path: Path, n: int) -> tuple[list[str], list[str], dict[str, int]]:
    """`request_ids` over the store's orders (all the latest scoring forecast, and those forecast earlier
    only), the latest ones, and counts."""
    from core import store

    latest = store.fetch_df("api_loadgen_orders", {"limit": 100_000_000}, store_path)["order_id"].tolist()
    with store.connect(store_path, read_only=True) as con:
        earlier = [row[0] for row in con.execute(EARLIER_ORDERS_SQL).fetchall()]
    ids = request_ids(latest, earlier, n)
    return ids, latest, {"latest_orders": len(latest), "earlier_orders": len(earlier), "distinct_ids": len(set(ids))}


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
    """Time a scheduled open-loop run of single-order forecasts at RATE req/s over realistic ids."""
    server, client, _, store = _serve(template_store, copy_dir)
    ids, latest, id_figures = realistic_ids(store, int(RATE * duration_s))
    ok = expected_status(ids, latest)
    peaks: list[float | None] = []

    def run() -> dict[str, Any]:
        try:
            return scheduled_open_loop(
                lambda i: client.call("GET", f"/v1/orders/{ids[i]}/forecast")[0], RATE, duration_s, ok=ok
            )
        finally:
            peaks.append(_stop(server))

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, **id_figures, "server_peak_rss_mb": peaks[0] if peaks else None}

    return run, summarise


def prepare_healthz(
    template_store: str, copy_dir: str, duration_s: float
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: GET /healthz on the same schedule."""
    server, client, _, _ = _serve(template_store, copy_dir)
    peaks: list[float | None] = []

    def run() -> dict[str, Any]:
        try:
            return scheduled_open_loop(lambda i: client.call("GET", "/healthz")[0], RATE, duration_s)
        finally:
            peaks.append(_stop(server))

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {
            **summary,
            "healthz_p50_ms": summary["p50_ms"],
            "healthz_p99_ms": summary["p99_ms"],
            "server_peak_rss_mb": peaks[0] if peaks else None,
        }

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
    what="GET /v1/orders/{id}/forecast against a real uvicorn (1 worker), open loop at 50 req/s on a fixed "
    "schedule, latency from each request's scheduled instant (queueing included), over ids drawn at random from "
    "every order the latest scoring forecast plus 10% forecast on earlier mornings only; p50/p99/max latency, "
    "service times and errors in results.json; peak RSS is the server's",
    baseline_what="GET /healthz on the same schedule on its own server",
    plan=plan,
    count="requests",
    unit="requests",
    targets=(
        Target("p99_ms", "<=", 25.0, "forecast p99 ≤ 25 ms"),
        Target("errors", "<=", 0.0, "0 errors", scales=("small", "full")),
    ),
    figures=("p50_ms", "p99_ms", "errors", "healthz_p99_ms", "server_peak_rss_mb"),
    peak_figure="server_peak_rss_mb",
    default=False,  # ~2 min of fixed-rate load a scale: `python -m bench --only api`
)
