"""Request counters, latency histograms and the model-version gauge, in the Prometheus text format.

Written by hand (the format is a few lines of text) so the API needs no extra dependency.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping

# Upper bounds in seconds; the forecast route's target is p99 <= 25 ms, so the low end is fine-grained.
LATENCY_BUCKETS_S: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs.items()) + "}"


class Metrics:
    """Thread-safe counters per (route, method, status) and a latency histogram per route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = {}
        self._sums: dict[tuple[str, str], float] = defaultdict(float)
        self._counts: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        key = (route, method)
        with self._lock:
            self._requests[(route, method, status)] += 1
            buckets = self._buckets.setdefault(key, [0] * len(LATENCY_BUCKETS_S))
            for i, bound in enumerate(LATENCY_BUCKETS_S):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[key] += seconds
            self._counts[key] += 1

    def requests_total(self, route: str, method: str, status: int) -> int:
        """How many requests of a route ended with a status."""
        with self._lock:
            return self._requests.get((route, method, status), 0)

    def render(self, model_versions: Mapping[str, str] | None = None) -> str:
        """The Prometheus text exposition of everything recorded, plus the champions' versions."""
        lines = [
            "# HELP journeyops_api_requests_total Requests by route, method and status.",
            "# TYPE journeyops_api_requests_total counter",
        ]
        with self._lock:
            requests = sorted(self._requests.items())
            buckets = {k: list(v) for k, v in self._buckets.items()}
            sums, counts = dict(self._sums), dict(self._counts)
        for (route, method, status), n in requests:
            lines.append(
                f"journeyops_api_requests_total{_labels({'route': route, 'method': method, 'status': str(status)})} {n}"
            )
        lines += [
            "# HELP journeyops_api_errors_total Requests that ended in a server error (5xx), by route.",
            "# TYPE journeyops_api_errors_total counter",
        ]
        errors: dict[tuple[str, str], int] = defaultdict(int)
        for (route, method, status), n in requests:
            if status >= 500:
                errors[(route, method)] += n
        for (route, method), n in sorted(errors.items()):
            lines.append(f"journeyops_api_errors_total{_labels({'route': route, 'method': method})} {n}")
        lines += [
            "# HELP journeyops_api_request_duration_seconds Request latency by route.",
            "# TYPE journeyops_api_request_duration_seconds histogram",
        ]
        for (route, method), counts_le in sorted(buckets.items()):
            base = {"route": route, "method": method}
            for bound, n in zip(LATENCY_BUCKETS_S, counts_le, strict=True):
                lines.append(
                    f"journeyops_api_request_duration_seconds_bucket{_labels({**base, 'le': repr(bound)})} {n}"
                )
            total = counts[(route, method)]
            lines.append(f"journeyops_api_request_duration_seconds_bucket{_labels({**base, 'le': '+Inf'})} {total}")
            lines.append(f"journeyops_api_request_duration_seconds_sum{_labels(base)} {sums[(route, method)]:.6f}")
            lines.append(f"journeyops_api_request_duration_seconds_count{_labels(base)} {total}")
        lines += [
            "# HELP journeyops_model_version The champion version serving each kind (value 1).",
            "# TYPE journeyops_model_version gauge",
        ]
        for kind, version in sorted((model_versions or {}).items()):
            lines.append(f"journeyops_model_version{_labels({'kind': kind, 'version': version})} 1")
        return "\n".join(lines) + "\n"
