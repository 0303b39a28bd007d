"""Benchmark `pages`: the server time of each dashboard page's first render at demo scale.

Set-up (untimed): the default demo store (`python -m core demo`: 42 days × 600 orders/day), the same
one `bench.daily` builds (reused through its marker). The case process renders the trivial page and every
page once, untimed, so that all modules are imported (a server's start-up, not a page's cost). Subject: every page in `pages/` rendered with
`streamlit.testing.v1.AppTest` against a copy of the store, one after another, with Streamlit's
data and resource caches cleared before each (so each render is a first render: the page's queries,
model loading and charts are all paid); each page's seconds are a figure, and the slowest is the
headline `slowest_page_seconds`. Baseline: the trivial page (a title and a line of text) rendered the
same number of times, caches cleared the same way — the floor of an AppTest render.

Benchmark `pages_large`: the same subject and baseline on a store of ≈ 1M orders (full scale: 42 days ×
24,000 orders/day, 35 days of static promises then 7 days of the closed loop, so predictions, triage
lists, monitoring and benefit tables are large too; retrains bounded by the demo settings). Its set-up
builds that history once per work folder (a marker beside the store; re-runs reuse it): ≈ 9 min for the
small scale (≈ 100k orders) and ≈ 30 min for the full scale on 2 shared cores.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import daily
from bench.harness import REPO_ROOT, Benchmark, Call, Plan, Target

TIMEOUT_S = 120
# `pages_large`: (days, orders per day, pre-model days) per scale. Full is ≈ 1M orders: 35 days of
# static promises, then a go-live and 7 days of the closed loop (scoring, triage lists, monitoring,
# benefits), so every table a page reads is large too; the retrain rows stay bounded (demo settings).
LARGE_SIZES = {"small": (42, 2_400, 35), "full": (42, 24_000, 35)}
TRIVIAL = 'import streamlit as st\nst.title("Trivial")\nst.write("one line of text")\n'


def page_files() -> list[Path]:
    """The dashboard's pages, in name order."""
    return sorted((REPO_ROOT / "pages").glob("*.py"))


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def _warm_up(store: Path, scripts: list[Path]) -> None:
    # Imports are a server's start-up cost, not a page's: render the trivial page and each of
    # `scripts` once, untimed, so every module is imported; the timed renders clear the caches first.
    from streamlit.testing.v1 import AppTest

    os.environ["JOURNEYOPS_STORE"] = str(store)
    AppTest.from_string(TRIVIAL, default_timeout=TIMEOUT_S).run()
    for script in scripts:
        AppTest.from_file(str(script), default_timeout=TIMEOUT_S).run()


def prepare_pages(template_store: str, copy_dir: str) -> Callable[[], dict[str, Any]]:
    """Render every page once, caches cleared before each; per-page seconds."""
    from streamlit.testing.v1 import AppTest

    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    store = Path(copy_dir) / Path(template_store).name
    _warm_up(store, page_files())

    def run() -> dict[str, Any]:
        seconds: dict[str, float] = {}
        errors: dict[str, list[str]] = {}
        for page in page_files():
            _clear_caches()
            started = time.perf_counter()
            at = AppTest.from_file(str(page), default_timeout=TIMEOUT_S).run()
            seconds[page.stem] = round(time.perf_counter() - started, 3)
            if at.exception:
                errors[page.stem] = [str(e.value)[:200] for e in at.exception]
        return {"pages": len(seconds), "page_seconds": seconds, "errors": errors,
                "slowest_page": max(seconds, key=seconds.__getitem__),
                "slowest_page_seconds": max(seconds.values()), "pages_with_errors": len(errors)}

    return run


def large_template_path(work_dir: Path) -> Path:
    """Where the `pages_large` set-up writes its store."""
    return work_dir / "pages_large_demo" / "journeyops.duckdb"


def prepare_large_store(store: str, days: int, orders_per_day: int, pre_model_days: int,
                        seed: int) -> Callable[[], dict[str, Any]]:
    """Set-up: build the large closed-loop history unless this folder already holds the same one
    (a marker beside the store; the build takes minutes, re-runs reuse it)."""
    import json

    from core import closed_loop

    path = Path(store)
    params = {"days": days, "orders_per_day": orders_per_day, "pre_model_days": pre_model_days, "seed": seed}
    marker = path.with_name("built.json")
    if marker.exists() and path.exists() and json.loads(marker.read_text()).get("params") == params:
        return lambda: {"reused": True}

    def run() -> dict[str, Any]:
        shutil.rmtree(path.parent, ignore_errors=True)
        path.parent.mkdir(parents=True)
        started = time.perf_counter()
        outcome = closed_loop.build_demo_history(
            path, days=days, orders_per_day=orders_per_day, seed=seed, pre_model_days=pre_model_days,
            scenario_after_days=3, settings=closed_loop.demo_settings(), progress=False)
        built = {"params": params, "build_seconds": round(time.perf_counter() - started, 1),
                 "outcome": json.loads(json.dumps(outcome, default=str))}
        marker.write_text(json.dumps(built))
        return built

    return run


def prepare_trivial(template_store: str, copy_dir: str) -> Callable[[], dict[str, Any]]:
    """Baseline: the trivial page rendered once per dashboard page, caches cleared the same way."""
    from streamlit.testing.v1 import AppTest

    store = Path(copy_dir) / Path(template_store).name
    _warm_up(store, [])
    n = len(page_files())

    def run() -> dict[str, Any]:
        worst = 0.0
        for _ in range(n):
            _clear_caches()
            started = time.perf_counter()
            AppTest.from_string(TRIVIAL, default_timeout=TIMEOUT_S).run()
            worst = max(worst, time.perf_counter() - started)
        return {"pages": n, "slowest_page_seconds": round(worst, 3)}

    return run


def plan(scale: str, work_dir: Path) -> Plan:
    """The demo store of `bench.daily` at this scale; every page, then the trivial page."""
    days, per_day = daily.SIZES[scale]
    template = daily.template_path(work_dir)
    copy_dir = str(work_dir / "pages_store")
    return Plan(
        workload=f"every page on a {days}-day × {per_day:,} orders/day closed-loop demo",
        setup=(Call("bench.report:prepare_demo_store",
                    {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED}),),
        subject=Call("bench.pages:prepare_pages", {"template_store": str(template), "copy_dir": copy_dir}),
        baseline=Call("bench.pages:prepare_trivial", {"template_store": str(template), "copy_dir": copy_dir}),
    )


BENCHMARK = Benchmark(
    name="pages",
    what="first render (server time, `streamlit.testing.v1.AppTest`, caches cleared) of every dashboard "
    "page on the default demo store; per-page seconds in results.json",
    baseline_what="a trivial page (title + one line) rendered as many times, the same way",
    plan=plan,
    count="pages",
    unit="pages",
    targets=(
        Target("slowest_page_seconds", "<=", 1.0, "every page's first render ≤ 1 s"),
        Target("pages_with_errors", "<=", 0.0, "no page raises", scales=("small", "full")),
    ),
    figures=("slowest_page_seconds", "pages_with_errors"),
    detail="page_seconds",
)


def plan_large(scale: str, work_dir: Path) -> Plan:
    """The large closed-loop store of this scale (built once, reused); every page, then the trivial page."""
    days, per_day, pre = LARGE_SIZES[scale]
    template = large_template_path(work_dir)
    copy_dir = str(work_dir / "pages_large_store")
    return Plan(
        workload=f"every page on a {days}-day × {per_day:,} orders/day closed-loop demo ({days - pre} days after go-live)",
        setup=(Call("bench.pages:prepare_large_store",
                    {"store": str(template), "days": days, "orders_per_day": per_day, "pre_model_days": pre,
                     "seed": daily.SEED}),),
        subject=Call("bench.pages:prepare_pages", {"template_store": str(template), "copy_dir": copy_dir}),
        baseline=Call("bench.pages:prepare_trivial", {"template_store": str(template), "copy_dir": copy_dir}),
    )


LARGE_BENCHMARK = Benchmark(
    name="pages_large",
    what="first render (as `pages`) of every dashboard page on a store of ≈ 1M orders with a real closed-loop "
    "history (predictions, triage lists, monitoring and benefits tables large too); per-page seconds in results.json",
    baseline_what="a trivial page (title + one line) rendered as many times, the same way",
    plan=plan_large,
    count="pages",
    unit="pages",
    targets=(
        Target("slowest_page_seconds", "<=", 2.0, "every page's first render ≤ 2 s at 1M orders"),
        Target("pages_with_errors", "<=", 0.0, "no page raises", scales=("small", "full")),
    ),
    figures=("slowest_page_seconds", "pages_with_errors"),
    detail="page_seconds",
)
