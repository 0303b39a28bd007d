"""Benchmark `pages`: the server time of each dashboard page's cold first render at demo scale.

Set-up (untimed, each step in its own process): the default demo store (`python -m core demo`: 42 days ×
600 orders/day), the same one `bench.daily` builds (reused through its marker); then a copy of its folder
whose materialised page views are refreshed as the daily job leaves them (`core.views.stored.refresh`;
its seconds are the figure `refresh_seconds`).
The case process (fresh) first does a server's start-up, untimed: the trivial page is rendered and a
script that imports every module of `ui` and `core` is run through `AppTest` — no dashboard page is
rendered, so no view is written and no page's data is read before the clock starts. The refreshed views
are set aside.
Subject (the headline), the *cold* first render: every page in `pages/` rendered once with
`streamlit.testing.v1.AppTest`, one after another, each with the views folder removed and Streamlit's
data and resource caches cleared just before it — the page's queries, model loading, live view
computation (and writing its view back) and charts all paid; per-page seconds are `page_seconds`, the
slowest is `slowest_page_seconds`. Then, untimed by the harness, the *warm* render as a second figure:
the refreshed views put back (what a morning after the daily job finds), caches cleared, every page
rendered again; `warm_page_seconds` and `warm_slowest_page_seconds`. (Before, every page was rendered once
untimed before the clock, which wrote the views, so the "first render" read parquet.)
Baseline: the trivial page (a title and a line of text) rendered the same number of times, caches
cleared the same way — the floor of an AppTest render.

Benchmark `pages_large`: the same subject, warm figure and baseline on a store of ≈ 1M orders (full
scale: 42 days × 24,000 orders/day, 35 days of static promises then 7 days of the closed loop, so
predictions, triage lists, monitoring and benefit tables are large too; retrains bounded by the demo
settings). Its set-up builds that history once per work folder (a marker beside the store; re-runs reuse
it): ≈ 9 min for the small scale (≈ 100k orders) and ≈ 30 min for the full scale on 2 shared cores.
"""

from __future__ import annotations

import os
import shutil
import sys
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
REFRESH_FILE = "views_refresh.json"
SET_ASIDE = "views.refreshed"
TRIVIAL = 'import streamlit as st\nst.title("Trivial")\nst.write("one line of text")\n'
# A server's start-up without rendering a page: every module of the app's own packages imported, and
# the libraries they import inside functions (a page's first use would otherwise pay for them).
IMPORT_ALL = "from bench.pages import import_app_modules\nimport_app_modules()\n"
APP_PACKAGES = ("ui", "core")


def lazy_imports(root: Path = REPO_ROOT) -> list[str]:
    """Third-party modules the app's packages import inside functions (not at the top of a module)."""
    import ast

    found: set[str] = set()
    for package in APP_PACKAGES:
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Import | ast.ImportFrom) or node.col_offset == 0:
                    continue
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    if top and getattr(node, "level", 0) == 0 and top not in APP_PACKAGES:
                        if top not in sys.stdlib_module_names:
                            found.add(name)
    return sorted(found)


def import_app_modules() -> None:
    """Import every module of `ui` and `core` (their `__main__` aside) and the libraries they import lazily."""
    import importlib
    import pkgutil

    for package_name in APP_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    for name in lazy_imports():
        importlib.import_module(name)


def page_files() -> list[Path]:
    """The dashboard's pages, in name order."""
    return sorted((REPO_ROOT / "pages").glob("*.py"))


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def _start_up(store: Path) -> float:
    # Imports are a server's start-up cost, not a page's: the trivial page and a script importing every
    # module of `ui` and `core`, through AppTest; no dashboard page runs, so no view is read or written.
    from streamlit.testing.v1 import AppTest

    os.environ["JOURNEYOPS_STORE"] = str(store)
    started = time.perf_counter()
    AppTest.from_string(TRIVIAL, default_timeout=TIMEOUT_S).run()
    imported = AppTest.from_string(IMPORT_ALL, default_timeout=TIMEOUT_S).run()
    if imported.exception:
        raise RuntimeError(f"importing the app's modules failed: {imported.exception[0].value}")
    return round(time.perf_counter() - started, 3)


def _render_seconds(page: Path) -> tuple[float, list[str]]:
    # One render, timed; the caller has cleared what must be cleared.
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT_S).run()
    return round(time.perf_counter() - started, 3), [str(e.value)[:200] for e in at.exception]


Render = Callable[[Path], tuple[float, list[str]]]


def set_views_aside(store: Path) -> Path | None:
    """Move the store's views folder aside (beside it), so pages find none; where it went, or None."""
    from core.views import view_files

    folder = view_files.views_dir(store)
    saved = folder.with_name(SET_ASIDE)
    shutil.rmtree(saved, ignore_errors=True)
    if not folder.exists():
        return None
    folder.rename(saved)
    return saved


def put_views_back(store: Path) -> bool:
    """Replace whatever views the renders wrote with the set-aside (refreshed) ones; whether there were any."""
    from core.views import view_files

    folder = view_files.views_dir(store)
    saved = folder.with_name(SET_ASIDE)
    shutil.rmtree(folder, ignore_errors=True)
    if not saved.exists():
        return False
    saved.rename(folder)
    return True


def cold_pass(store: Path, pages: list[Path], render: Render | None = None) -> dict[str, Any]:
    """Each page's cold first render: the views folder removed and Streamlit's caches cleared just
    before each (a page computing live writes its view back; the next page must not find it)."""
    from core.views import view_files

    render = render or _render_seconds
    folder = view_files.views_dir(store)
    seconds: dict[str, float] = {}
    errors: dict[str, list[str]] = {}
    for page in pages:
        shutil.rmtree(folder, ignore_errors=True)
        _clear_caches()
        seconds[page.stem], raised = render(page)
        if raised:
            errors[page.stem] = raised
    shutil.rmtree(folder, ignore_errors=True)
    return {"page_seconds": seconds, "errors": errors}


def warm_pass(store: Path, pages: list[Path], render: Render | None = None) -> dict[str, Any]:
    """Each page rendered with the refreshed views in place (what the daily job leaves), caches cleared."""
    render = render or _render_seconds
    views = put_views_back(store)
    seconds: dict[str, float] = {}
    errors: dict[str, list[str]] = {}
    for page in pages:
        _clear_caches()
        seconds[page.stem], raised = render(page)
        if raised:
            errors[page.stem] = raised
    return {"warm_page_seconds": seconds, "warm_errors": errors, "warm_with_views": views}


def _slowest(seconds: dict[str, float]) -> tuple[str, float]:
    name = max(seconds, key=seconds.__getitem__)
    return name, seconds[name]


def prepare_pages(store: str) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Cold first render of every page (timed), then the warm render (views back, untimed by the harness)."""
    import json

    path = Path(store)
    pages = page_files()
    start_up = _start_up(path)
    set_views_aside(path)
    extra: dict[str, Any] = {"start_up_seconds": start_up}
    refreshed = path.with_name(REFRESH_FILE)
    if refreshed.exists():
        extra.update(json.loads(refreshed.read_text()))

    def run() -> dict[str, Any]:
        return cold_pass(path, pages)

    def summarise(cold: dict[str, Any]) -> dict[str, Any]:
        warm = warm_pass(path, pages)
        slowest, slowest_s = _slowest(cold["page_seconds"])
        warm_slowest, warm_slowest_s = _slowest(warm["warm_page_seconds"])
        return {
            "pages": len(cold["page_seconds"]),
            **cold,
            "slowest_page": slowest,
            "slowest_page_seconds": slowest_s,
            "pages_with_errors": len(cold["errors"]),
            **warm,
            "warm_slowest_page": warm_slowest,
            "warm_slowest_page_seconds": warm_slowest_s,
            **extra,
        }

    return run, summarise


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


def prepare_views_copy(template_store: str, copy_dir: str) -> Callable[[], dict[str, Any]]:
    """Set-up: a copy of the template's folder whose page views are refreshed as the daily job does;
    the refresh's wall and CPU seconds go to a file beside the copy (figures of the subject)."""
    import json

    from core.views import stored

    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    store = Path(copy_dir) / Path(template_store).name

    def run() -> dict[str, Any]:
        started, cpu = time.perf_counter(), time.process_time()
        per_view = stored.refresh(store)
        figures = {
            "refresh_seconds": round(time.perf_counter() - started, 3),
            "refresh_cpu_seconds": round(time.process_time() - cpu, 3),
            "refresh_view_seconds": per_view,
            "refresh_load_avg": list(os.getloadavg()),
        }
        store.with_name(REFRESH_FILE).write_text(json.dumps(figures))
        return figures

    return run


def prepare_trivial(store: str) -> Callable[[], dict[str, Any]]:
    """Baseline: the trivial page rendered once per dashboard page, caches cleared the same way."""
    from streamlit.testing.v1 import AppTest

    _start_up(Path(store))
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
    copy_dir = work_dir / "pages_store"
    store = str(copy_dir / template.name)
    return Plan(
        workload=f"every page on a {days}-day × {per_day:,} orders/day closed-loop demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED},
            ),
            Call("bench.pages:prepare_views_copy", {"template_store": str(template), "copy_dir": str(copy_dir)}),
        ),
        subject=Call("bench.pages:prepare_pages", {"store": store}),
        baseline=Call("bench.pages:prepare_trivial", {"store": store}),
    )


BENCHMARK = Benchmark(
    name="pages",
    what="cold first render (server time, `streamlit.testing.v1.AppTest`, fresh process, views folder removed and "
    "caches cleared before each page, no page rendered before) of every dashboard page on the default demo store; "
    "warm render (the daily job's refreshed views in place, caches cleared) as the second figure; per-page seconds "
    "of both in results.json",
    baseline_what="a trivial page (title + one line) rendered as many times, the same way",
    plan=plan,
    count="pages",
    unit="pages",
    targets=(
        Target("slowest_page_seconds", "<=", 1.0, "every page's cold first render ≤ 1 s"),
        Target("pages_with_errors", "<=", 0.0, "no page raises", scales=("small", "full")),
    ),
    figures=("slowest_page_seconds", "warm_slowest_page_seconds", "pages_with_errors", "refresh_seconds"),
    detail=("page_seconds", "warm_page_seconds"),
)


def plan_large(scale: str, work_dir: Path) -> Plan:
    """The large closed-loop store of this scale (built once, reused); every page, then the trivial page."""
    days, per_day, pre = LARGE_SIZES[scale]
    template = large_template_path(work_dir)
    copy_dir = work_dir / "pages_large_store"
    store = str(copy_dir / template.name)
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
            Call("bench.pages:prepare_views_copy", {"template_store": str(template), "copy_dir": str(copy_dir)}),
        ),
        subject=Call("bench.pages:prepare_pages", {"store": store}),
        baseline=Call("bench.pages:prepare_trivial", {"store": store}),
    )


LARGE_BENCHMARK = Benchmark(
    name="pages_large",
    what="cold first render (as `pages`: fresh process, no views, caches cleared) of every dashboard page on a store "
    "of ≈ 1M orders with a real closed-loop history (predictions, triage lists, monitoring and benefits tables large "
    "too); warm render with the page views refreshed as the daily job leaves them as the second figure; per-page "
    "seconds of both and the refresh in results.json",
    baseline_what="a trivial page (title + one line) rendered as many times, the same way",
    plan=plan_large,
    count="pages",
    unit="pages",
    targets=(
        Target("slowest_page_seconds", "<=", 2.0, "every page's cold first render ≤ 2 s at 1M orders"),
        Target("pages_with_errors", "<=", 0.0, "no page raises", scales=("small", "full")),
    ),
    figures=(
        "slowest_page_seconds",
        "warm_slowest_page_seconds",
        "pages_with_errors",
        "refresh_seconds",
        "refresh_cpu_seconds",
    ),
    detail=("page_seconds", "warm_page_seconds"),
    default=False,  # its ≈1M-order store takes ~25 min to build once: `python -m bench --only pages_large`
)
