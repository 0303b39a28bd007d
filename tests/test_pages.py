"""Every page runs in AppTest without an exception; Process insights shows core's numbers and calm notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.views import insights
from tests.conftest import REPO_ROOT
from tests.fixtures import (
    ORDER_WORLD_EVENTS,
    TICKET_LOG_EVENTS,
    demo_store,
    helpdesk_store,
    store_held_by_a_job,
    write_events,
)
from ui import layout, navigation
from ui import monitoring as mon

PAGE_FILES = sorted((REPO_ROOT / "pages").glob("*.py"))
PROCESS_INSIGHTS = REPO_ROOT / "pages" / "process_insights.py"
TIMEOUT_S = 60


def run_page(page: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    return AppTest.from_file(str(page), default_timeout=TIMEOUT_S).run()


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(tmp_path_factory)


def test_pages_are_found():
    assert PROCESS_INSIGHTS in PAGE_FILES


def _no_run(what: str) -> Callable[[AppTest], None]:
    """The page says which daily output it lacks and what to run (the demo world has no daily runs)."""

    def check(at: AppTest) -> None:
        assert [i.value for i in at.info] == [mon.NO_DAILY_NOTE.format(what=what)]

    return check


def _shows(subheaders: list[str], metrics: list[str], info: list[str] | None = None) -> Callable[[AppTest], None]:
    def check(at: AppTest) -> None:
        assert [s.value for s in at.subheader] == subheaders
        assert [m.label for m in at.metric] == metrics
        if info is not None:
            assert [i.value for i in at.info] == info

    return check


def _order_lookup(at: AppTest) -> None:
    assert at.text_input(key="lookup_order").label == "Order id"
    assert [c.value for c in at.caption][
        -1
    ] == "Type an order id to see its journey, its ETA and how the forecast moved."


# What each page shows on the demo world (20 days, no models, no daily run): its own title and content.
DEMO_PAGE_CONTENT: dict[str, tuple[str, Callable[[AppTest], None]]] = {
    "at_risk": ("At-risk list", _no_run("a triage list")),
    "benefits": (
        "Benefits",
        _shows(
            ["Ledger by week", "Treated vs held out", "Assumptions and targets"],
            ["Go-live", "Live weeks", "Realised value", "Triage value"],
            [mon.NO_GO_LIVE_NOTE, "No held-out orders yet: the triage list holds a random share out from go-live on."],
        ),
    ),
    "data_quality": ("Data quality", _no_run("contract results")),
    "drift": ("Drift", _no_run("drift results")),
    "forecast_accuracy": ("Forecast accuracy", _no_run("forecasts")),
    "models": ("Models", _shows([], [], ["No model trained yet: press Retrain, or run `python -m core demo`."])),
    "operations": (
        "Operations",
        _shows(
            ["Jobs by kind", "Latest runs", "Alerts to acknowledge", "API tokens"],
            ["Job runs", "Failed", "Running", "Store", "Models", "Open alerts"],
        ),
    ),
    "order_lookup": ("Order lookup", _order_lookup),
    "process_insights": (
        "Process insights",
        _shows(
            ["Time in each stage", "Bottleneck per week", "Work in progress", "Most common paths"],
            ["Active cases", "Events", "Ended cases", "Median journey", "P90 journey", "Open at as-of"],
            [],
        ),
    ),
    "segments": ("Segments & bias", _no_run("matured forecasts")),
    "today": ("Today", _no_run("a morning")),
}


def test_every_page_has_its_expected_content():
    assert set(DEMO_PAGE_CONTENT) == {p.stem for p in PAGE_FILES}


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_page_runs_on_the_demo_world(page, world_store, monkeypatch):
    at = run_page(page, world_store, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    title, shows_its_content = DEMO_PAGE_CONTENT[page.stem]
    assert [t.value for t in at.title] == [title]
    shows_its_content(at)


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_page_is_calm_without_a_store(page, tmp_path, monkeypatch):
    at = run_page(page, tmp_path / "absent.duckdb", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [layout.MISSING_NOTE]


def test_every_page_file_is_in_the_navigation_table():
    registered = {spec.script for spec in navigation.PAGES}
    assert {f"pages/{p.name}" for p in PAGE_FILES} <= registered


def test_navigation_shows_only_existing_pages_in_their_sections():
    specs = navigation.available_pages()
    assert [f"pages/{p.name}" for p in PAGE_FILES] == sorted(spec.script for spec in specs)
    assert "Process insights" in [spec.title for spec in specs]


def test_navigation_builds_sections_with_one_default_page(tmp_path):
    (tmp_path / "pages").mkdir()
    for name in ("process_insights.py", "today.py", "drift.py"):
        (tmp_path / "pages" / name).write_text("import streamlit as st\n")
    specs = navigation.available_pages(tmp_path)
    assert [(spec.section, spec.title) for spec in specs] == [
        ("Daily work", "Today"),
        ("Monitoring", "Drift"),
        ("Models & process", "Process insights"),
    ]
    # st.Page needs a running script, so outside one only the section layout can be checked
    sections = navigation.build_navigation(tmp_path)
    assert {name: len(pages) for name, pages in sections.items()} == {
        "Daily work": 1,
        "Monitoring": 1,
        "Models & process": 1,
    }
    assert navigation.default_page(tmp_path).title == "Today"
    insights_spec = next(s for s in navigation.PAGES if s.title == "Process insights")
    assert navigation.page_url_path(insights_spec, tmp_path) == "process-insights"


def test_without_a_marked_default_the_first_page_opens_the_app(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "process_insights.py").write_text("")
    spec = navigation.default_page(tmp_path)
    assert spec is not None and spec.title == "Process insights"
    assert navigation.page_url_path(spec, tmp_path) == ""
    assert navigation.default_page(tmp_path / "nowhere") is None


def test_the_app_runs_its_navigation(world_store, monkeypatch):
    at = run_page(REPO_ROOT / "app.py", world_store, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) == 1
    assert at.sidebar.caption[0].value == f"Store: `{world_store.name}`"


def test_process_insights_shows_the_numbers_of_core(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = run_page(PROCESS_INSIGHTS, store_file, monkeypatch)
    assert not at.exception
    kpis = insights.load_kpis(None, date(2026, 3, 10), store_file)
    assert kpis["active_cases"] == 4
    assert [(m.label, m.value) for m in at.metric] == [
        ("Active cases", "4"),
        ("Events", "19"),
        ("Ended cases", "2"),
        ("Median journey", "2.7 d"),
        ("P90 journey", "3.1 d"),
        ("Open at as-of", "2"),
    ]
    assert [s.value for s in at.subheader] == [
        "Time in each stage",
        "Bottleneck per week",
        "Work in progress",
        "Most common paths",
    ]
    assert len(at.get("plotly_chart")) == 3
    top_paths = at.dataframe[-1].value
    assert top_paths["cases"].tolist() == [1, 1]
    assert any("A case ends at: Cancelled, Delivered" in c.value for c in at.caption)
    assert any("Top 10 of 2 distinct paths" in c.value for c in at.caption)


def test_process_insights_reads_an_earlier_as_of_day(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = run_page(PROCESS_INSIGHTS, store_file, monkeypatch)
    at.sidebar.date_input(key="as_of_day").set_value(date(2026, 3, 4)).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Active cases"], metrics["Events"], metrics["Ended cases"]) == ("3", "14", "1")


def test_process_insights_works_on_an_imported_log(store_file, monkeypatch):
    write_events(store_file, TICKET_LOG_EVENTS, source="helpdesk.xes.gz")
    at = run_page(PROCESS_INSIGHTS, store_file, monkeypatch)
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Open at as-of"] == "1"
    assert any("A case ends at: Closed" in c.value for c in at.caption)


def test_process_insights_on_the_real_helpdesk_log(tmp_path_factory, monkeypatch):
    at = run_page(PROCESS_INSIGHTS, helpdesk_store(tmp_path_factory), monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Active cases"], metrics["Ended cases"], metrics["Open at as-of"]) == ("4,580", "4,557", "23")
    assert len(at.get("plotly_chart")) == 3


@pytest.mark.parametrize(
    ("events", "metrics"),
    [
        # one open case, no finished dwell, nothing ended
        ([("A", "placed", "2026-03-02 08:00")], ["1", "1", "0", "—", "—", "1"]),
        # one case ended the same day: no work in progress at any day's end
        (
            [("A", "placed", "2026-03-02 08:00"), ("A", "delivered", "2026-03-02 09:00")],
            ["1", "2", "1", "0.0 d", "0.0 d", "0"],
        ),
    ],
    ids=["nothing-finished", "nothing-open"],
)
def test_process_insights_on_almost_nothing(events, metrics, store_file, monkeypatch):
    write_events(store_file, events)
    at = run_page(PROCESS_INSIGHTS, store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.metric] == metrics


def test_process_insights_on_an_empty_store(store_file, monkeypatch):
    write_events(store_file, [])
    at = run_page(PROCESS_INSIGHTS, store_file, monkeypatch)
    assert not at.exception
    assert [i.value for i in at.info] == [layout.EMPTY_NOTE]


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_page_is_calm_while_a_job_writes(page, store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.2")
    with store_held_by_a_job(store_file):
        at = run_page(page, store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [i.value for i in at.info] == [layout.BUSY_NOTE]
    assert at.button(key="store_busy_refresh").label == "Refresh now"


def _capped_table_script() -> None:
    import pandas as pd

    from ui import layout

    layout.capped_table(pd.DataFrame({"n": range(5)}), cap=3)


def _as_of_script() -> None:
    from datetime import date

    import streamlit as st

    from ui import layout

    st.write(layout.as_of_picker(date(2026, 3, 2), date(2026, 3, 10)).isoformat())


def test_tables_sent_to_the_browser_are_capped():
    at = AppTest.from_function(_capped_table_script, default_timeout=TIMEOUT_S).run()
    assert at.dataframe[0].value["n"].tolist() == [0, 1, 2]
    assert at.caption[0].value == "Showing the first 3 of 5 rows."


def test_the_as_of_day_defaults_to_the_latest_and_stays_in_range():
    at = AppTest.from_function(_as_of_script, default_timeout=TIMEOUT_S).run()
    assert at.markdown[0].value == "2026-03-10"
    at.session_state["as_of_day"] = date(2025, 1, 1)  # e.g. chosen on another store
    at.run()
    assert at.markdown[0].value == "2026-03-10"
    at.sidebar.date_input(key="as_of_day").set_value(date(2026, 3, 5)).run()
    assert at.markdown[0].value == "2026-03-05"
