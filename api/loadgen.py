"""A small load generator for the API: a real uvicorn on 127.0.0.1, threads + http.client.

`python -m api.loadgen --store PATH` creates a reader and a scorer token, starts the server, then
1. sends single-order forecasts open-loop at --rate requests/s for --duration s (each request leaves
   at its scheduled instant whatever the others do) and reports p50/p99/max latency and errors;
2. posts journeys to /v1/score from --score-clients closed-loop clients for --score-duration s and
   reports throughput and latency.
It prints one JSON object. (The bench harness times whole function calls, not request latencies,
so this lives here rather than in bench/.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from core import store
from core.access import auth

REPO_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store_path: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """uvicorn serving api.main:create_app on 127.0.0.1:port (OpenMP on one thread, as `make api` runs it)."""
    env = {
        **os.environ,
        "JOURNEYOPS_STORE": str(store_path),
        "OMP_NUM_THREADS": "1",
        "JOURNEYOPS_API_RATE_PER_S": "1000",
        "JOURNEYOPS_API_RATE_BURST": "1000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"the API did not come up on port {port} within 30 s")


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.local = threading.local()

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, float]:
        """(status, seconds) of one request; status 0 when the connection failed."""
        started = time.perf_counter()
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request(method, path, body=body, headers=self.headers)
                response = connection.getresponse()
                response.read()
                return response.status, time.perf_counter() - started
            except (OSError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                # A kept-alive connection the server has closed meanwhile: retry once on a new one.
                if not (reused and attempt == 1):
                    break
        return 0, time.perf_counter() - started


def _summary(results: Sequence[tuple[int, float]], wall_s: float, ok: int = 200) -> dict[str, Any]:
    latencies_ms = np.array([seconds * 1000 for _, seconds in results])
    errors = sum(1 for status, _ in results if status != ok)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(results),
        "errors": errors,
        "statuses": statuses,
        "throughput_per_s": round(len(results) / wall_s, 2) if wall_s else None,
        "p50_ms": round(float(np.percentile(latencies_ms, 50)), 2) if len(results) else None,
        "p99_ms": round(float(np.percentile(latencies_ms, 99)), 2) if len(results) else None,
        "max_ms": round(float(latencies_ms.max()), 2) if len(results) else None,
    }


def open_loop(send: Callable[[int], tuple[int, float]], rate: float, duration_s: float) -> dict[str, Any]:
    """Requests sent at fixed instants `1/rate` apart for `duration_s`, each on a pool thread."""
    total = int(rate * duration_s)
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    late_s = []

    def one(i: int) -> None:
        outcome = send(i)
        with lock:
            results.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(total):
            due = started + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                late_s.append(-wait)
            pool.submit(one, i)
    wall = time.perf_counter() - started
    summary = _summary(results, wall)
    summary["rate_per_s"] = rate
    summary["duration_s"] = duration_s
    summary["sends_late_over_5ms"] = sum(1 for s in late_s if s > 0.005)
    return summary


def closed_loop(send: Callable[[int], tuple[int, float]], clients: int, duration_s: float) -> dict[str, Any]:
    """`clients` threads sending back to back for `duration_s`."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration_s

    def run(worker: int) -> None:
        i = worker
        while time.perf_counter() < stop_at:
            outcome = send(i)
            with lock:
                results.append(outcome)
            i += clients

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = _summary(results, time.perf_counter() - started)
    summary["clients"] = clients
    summary["duration_s"] = duration_s
    return summary


def load_journeys(store_path: Path, limit: int = 200) -> tuple[list[str], list[bytes]]:
    """Order ids the latest scoring forecast, and their journeys (up to that instant) as /v1/score bodies."""
    orders = store.fetch_df("api_loadgen_orders", {"limit": limit}, store_path)
    if orders.empty:
        raise SystemExit(f"no champion predictions in {store_path}; run the daily job first")
    as_of = orders["as_of_at"].iloc[0].to_pydatetime()
    events = store.fetch_df(
        "api_loadgen_events", {"as_of": as_of, "order_ids": orders["order_id"].tolist()}, store_path
    )
    fields = (
        "channel",
        "region",
        "customer_tier",
        "category",
        "payment_method",
        "ship_mode",
        "warehouse",
        "carrier",
        "order_value",
        "items",
        "placed_at",
        "promised_at",
    )
    by_order = {order_id: group for order_id, group in events.groupby("order_id")}
    bodies = []
    for order in orders.to_dict("records"):
        journey = by_order.get(order["order_id"])
        if journey is None:
            continue
        attributes = {k: order[k] for k in fields if k in order and order[k] is not None and order[k] == order[k]}
        body = {
            "order": {
                "order_id": order["order_id"],
                **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in attributes.items()},
            },
            "events": [
                {"stage": e.stage, "event_ts": e.event_ts.isoformat(), "event_id": e.event_id}
                for e in journey.itertuples()
            ],
            "as_of": as_of.isoformat(),
        }
        bodies.append(json.dumps(body, default=float).encode())
    return orders["order_id"].tolist(), bodies


def main(argv: Sequence[str] | None = None) -> int:
    """Run both loads against a fresh server on the store and print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m api.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store with predictions and champions")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--score-clients", type=int, default=2)
    parser.add_argument("--score-duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--baseline-duration",
        type=float,
        default=0.0,
        help="first send GET /healthz at the same rate this long: the machine's noise floor",
    )
    args = parser.parse_args(argv)

    reader = auth.create_token("reader", "loadgen", args.store)
    scorer = auth.create_token("scorer", "loadgen", args.store)
    order_ids, bodies = load_journeys(args.store)
    port = _free_port()
    server = start_server(args.store, port, args.workers)
    try:
        reads = Client(port, reader[1])
        scores = Client(port, scorer[1])
        for order_id in order_ids[:20]:  # warm-up: connections, caches
            reads.call("GET", f"/v1/orders/{order_id}/forecast")
        baseline = (
            open_loop(lambda i: reads.call("GET", "/healthz"), args.rate, args.baseline_duration)
            if args.baseline_duration > 0
            else None
        )
        forecast = open_loop(
            lambda i: reads.call("GET", f"/v1/orders/{order_ids[i % len(order_ids)]}/forecast"),
            args.rate,
            args.duration,
        )
        score = None
        if args.score_duration > 0:
            scores.call("POST", "/v1/score", bodies[0])
            score = closed_loop(
                lambda i: scores.call("POST", "/v1/score", bodies[i % len(bodies)]),
                args.score_clients,
                args.score_duration,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        for record, _ in (reader, scorer):
            auth.revoke_token(record.token_id, args.store)
    print(
        json.dumps(
            {
                "healthz_baseline": baseline,
                "forecast": forecast,
                "score": score,
                "orders": len(order_ids),
                "journeys": len(bodies),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
