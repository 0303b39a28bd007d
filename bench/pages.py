"""Benchmark `pages`: the server time of each dashboard page's first render at demo scale.

Set-up (untimed): the default demo store (`python -m core demo`: 42 days × 600 orders/day), the same
one `bench.daily` builds (reused through its marker). The case process renders the trivial page and every
page once, untimed, so that all modules are imported (a server's start-up, not a page's cost). Subject: every
page in `pages/` rendered with
`streamlit.testing.v1.AppTest` against a copy of the store, one after another, with Streamlit's
data and resource caches cleared before each (so each render is a first render: the page's queries,
model loading and charts are all paid); each page's seconds are a figure, and the slowest is the
headline `slowest_page_seconds`. Baseline: the trivial page (a title and a line of text) rendered the
same number of times, caches cleared the same way — the floor of an AppTest render.

Benchmark `pages_large`: the same subject and baseline on a store of ≈ 1M orders (full scale: 42 days ×
24,000 orders/day, 35 days of static promises then 7 days of the closed loop, so predictions, triage
lists, monitoring and benefit tables are large too; retrains bounded by the demo settings). Its set-up
builds that history once per work folder (a marker beside the store; re-runs reuse it): ≈ 9 min for the
small scale (≈ 100k orders) and ≈ 30 min for the full scale on 2 shared cores. Then, as the daily job
does, it refreshes the materialised page views (`core.views.stored.refresh`, untimed; its seconds are the
figure `refresh_seconds`), so the timed renders read the stored views. Before the timed run, each page
that reads a view is also rendered *cold* (views folder removed, caches cleared: what a page costs when
the daily job has not refreshed yet), untimed by the harness; the slowest is `cold_slowest_page_seconds`.
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
# Pages that read a materialised view (core.views.stored), rendered cold too in `pages_large`.
VIEW_PAGES = ("today", "forecast_accuracy", "segments", "benefits", "process_insights")
REFRESH_FILE = "views_refresh.json"
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


def _render_seconds(page: Path) -> tuple[float, list[str]]:
    from streamlit.testing.v1 import AppTest

    _clear_caches()
    started = time.perf_counter()
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT_S).run()
    return round(time.perf_counter() - started, 3), [str(e.value)[:200] for e in at.exception]


def _cold_renders(store: Path) -> dict[str, Any]:
    # Each page that reads a materialised view, rendered with the views folder removed (it computes
    # live and writes its view back); the refreshed views are put back afterwards for the timed run.
    from core.views import view_files

    folder = view_files.views_dir(store)
    saved = folder.with_name("views.refreshed")
    shutil.rmtree(saved, ignore_errors=True)
    if folder.exists():
        folder.rename(saved)
    seconds: dict[str, float] = {}
    for page in page_files():
        if page.stem in VIEW_PAGES:
            shutil.rmtree(folder, ignore_errors=True)
            seconds[page.stem], _ = _render_seconds(page)
    shutil.rmtree(folder, ignore_errors=True)
    if saved.exists():
        saved.rename(folder)
    slowest = max(seconds, key=seconds.__getitem__)
    return {"cold_page_seconds": seconds, "cold_slowest_page": slowest, "cold_slowest_page_seconds": seconds[slowest]}


def prepare_pages(template_store: str, copy_dir: str, cold: bool = False) -> Callable[[], dict[str, Any]]:
    """Render every page once, caches cleared before each; per-page seconds. With `cold`, first (untimed)
    the pages that read materialised views with the views removed, and the set-up's refresh seconds."""
    import json

    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    store = Path(copy_dir) / Path(template_store).name
    _warm_up(store, page_files())
    extra: dict[str, Any] = {}
    if cold:
        extra = _cold_renders(store)
        refreshed = Path(template_store).with_name(REFRESH_FILE)
        if refreshed.exists():
            extra.update(json.loads(refreshed.read_text()))

    def run() -> dict[str, Any]:
        seconds: dict[str, float] = {}
        errors: dict[str, list[str]] = {}
        for page in page_files():
            seconds[page.stem], raised = _render_seconds(page)
            if raised:
                errors[page.stem] = raised
        return {
            "pages": len(seconds),
            "page_seconds": seconds,
            "errors": errors,
            "slowest_page": max(seconds, key=seconds.__getitem__),
            "slowest_page_seconds": max(seconds.values()),
            "pages_with_errors": len(errors),
            **extra,
        }

    return run


def large_template_path(work_dir: Path) -> Path:
    """Where the `pages_large` set-up writes its store."""
    return work_dir / "pages_large_demo" / "journeyops.duckdb"


def prepare_large_store(
    store: str, days: int, orders_per_day: int, pre_model_days: int, seed: int
) -> Callable[[], dict[str, Any]]:
    """Set-up: build the large closed-loop history unless this folder already holds the same one
    (a marker beside the store; the build takes minutes, re-runs reuse it)."""
    import json

    from core.jobs import closed_loop

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
            path,
            days=days,
            orders_per_day=orders_per_day,
            seed=seed,
            pre_model_days=pre_model_days,
            scenario_after_days=3,
            settings=closed_loop.demo_settings(),
            progress=False,
        )
        built = {
            "params": params,
            "build_seconds": round(time.perf_counter() - started, 1),
            "outcome": json.loads(json.dumps(outcome, default=str)),
        }
        marker.write_text(json.dumps(built))
        return built

    return run


def prepare_views(store: str) -> Callable[[], dict[str, Any]]:
    """Set-up: refresh the store's materialised page views as the daily job does; its wall and CPU
    seconds go to a file beside the store (figures of the subject)."""
    import json

    from core.views import stored

    def run() -> dict[str, Any]:
        started, cpu = time.perf_counter(), time.process_time()
        per_view = stored.refresh(store)
        figures = {
            "refresh_seconds": round(time.perf_counter() - started, 3),
            "refresh_cpu_seconds": round(time.process_time() - cpu, 3),
            "refresh_view_seconds": per_view,
            "refresh_load_avg": list(os.getloadavg()),
        }
        Path(store).with_name(REFRESH_FILE).write_text(json.dumps(figures))
        return figures

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
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED},
            ),
        ),
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
        workload=f"every page on a {days}-day × {per_day:,} orders/day closed-loop demo ({days - pre} days after go-live)",  # noqa: E501
        setup=(
            Call(
                "bench.pages:prepare_large_store",
                {
                    "store": str(template),
                    "days": days,
                    "orders_per_day": per_day,
                    "pre_model_days": pre,
                    "seed": daily.SEED,
                },
            ),
            Call("bench.pages:prepare_views", {"store": str(template)}),
        ),
        subject=Call(
            "bench.pages:prepare_pages", {"template_store": str(template), "copy_dir": copy_dir, "cold": True}
        ),
        baseline=Call("bench.pages:prepare_trivial", {"template_store": str(template), "copy_dir": copy_dir}),
    )


LARGE_BENCHMARK = Benchmark(
    name="pages_large",
    what="first render (as `pages`) of every dashboard page on a store of ≈ 1M orders with a real closed-loop "
    "history (predictions, triage lists, monitoring and benefits tables large too), its page views refreshed as the "
    "daily job leaves them; per-page seconds, the refresh and the cold renders (no views) in results.json",
    baseline_what="a trivial page (title + one line) rendered as many times, the same way",
    plan=plan_large,
    count="pages",
    unit="pages",
    targets=(
        Target("slowest_page_seconds", "<=", 2.0, "every page's first render ≤ 2 s at 1M orders"),
        Target("pages_with_errors", "<=", 0.0, "no page raises", scales=("small", "full")),
    ),
    figures=(
        "slowest_page_seconds",
        "pages_with_errors",
        "refresh_seconds",
        "refresh_cpu_seconds",
        "cold_slowest_page_seconds",
    ),
    detail="page_seconds",
    default=False,  # its ≈1M-order store takes ~25 min to build once: `python -m bench --only pages_large`
)
