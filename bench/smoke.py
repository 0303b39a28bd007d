"""A trivial benchmark that proves the harness end to end: summing integers, vectorised vs a loop.

Not run by plain `make bench`; `python -m bench --only smoke` runs it, and so does the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Benchmark, Call, Plan, Target

SIZES = {"small": 100_000, "full": 10_000_000}


def prepare_numpy_sum(n: int) -> Callable[[], dict[str, Any]]:
    """Sum 0..n-1 with numpy."""
    import numpy as np

    def run() -> dict[str, Any]:
        total = int(np.arange(n, dtype=np.int64).sum())
        return {"numbers": n, "total": total}

    return run


def prepare_python_sum(n: int) -> Callable[[], dict[str, Any]]:
    """Sum 0..n-1 with a Python loop: the baseline."""

    def run() -> dict[str, Any]:
        total = 0
        for i in range(n):
            total += i
        return {"numbers": n, "total": total}

    return run


def prepare_allocate(mib: int) -> Callable[[], dict[str, Any]]:
    """Hold mib MiB of written (so resident) memory: lets a test see per-case peak RSS."""

    def run() -> dict[str, Any]:
        block = b"\x01" * (mib * 1024 * 1024)
        return {"numbers": len(block)}

    return run


def plan(scale: str, work_dir: Path) -> Plan:
    """The same n for subject and baseline."""
    n = SIZES[scale]
    return Plan(
        workload=f"sum of {n:,} integers",
        subject=Call("bench.smoke:prepare_numpy_sum", {"n": n}),
        baseline=Call("bench.smoke:prepare_python_sum", {"n": n}),
    )


BENCHMARK = Benchmark(
    name="smoke",
    what="sum integers with numpy (proves the harness runs a case end to end)",
    baseline_what="the same sum in a Python loop",
    plan=plan,
    count="numbers",
    unit="numbers",
    targets=(Target("peak_rss_mb", "<=", 2048, "peak RSS ≤ 2 GiB", scales=("small", "full")),),
    default=False,
    documented=False,
)
