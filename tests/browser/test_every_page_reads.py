"""Every page, for every role, in headless Chromium at 1400 px against a store with real daily runs:
no header or cell shows a storage name (a snake_case word, `None`, `nan`) and no table is wider than
the page (no sideways scrolling inside a table, no table past the main column)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from core.access import roles
from tests.browser.test_process_insights_page import CHROMIUM, CHROMIUM_ARGS, serve
from tests.test_scenarios import TrainedWorld, copy_world, run_days, session_world
from ui.navigation import available_pages

pytestmark = pytest.mark.browser

WIDTH_PX = 1400
WAIT_MS = 60_000
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
MISSING = {"None", "nan", "NaN", "NaT", "<NA>"}
# Per table: its box against the main column, its scroller's widths, and its rendered headers and cells
# (Streamlit's grid draws on a canvas and keeps an accessible <table> of the cells in view).
TABLES_JS = """() => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]').getBoundingClientRect();
  return Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))
    .filter(el => el.offsetParent !== null)
    .map(el => {
      const box = el.getBoundingClientRect();
      const scroller = el.querySelector('.dvn-scroller');
      return {
        left: box.left, right: box.right, mainLeft: main.left, mainRight: main.right,
        scrollWidth: scroller ? scroller.scrollWidth : 0, clientWidth: scroller ? scroller.clientWidth : 0,
        headers: Array.from(el.querySelectorAll('th')).map(t => t.innerText.trim()),
        cells: Array.from(el.querySelectorAll('td')).map(t => t.innerText.trim()),
      };
    });
}"""


@pytest.fixture(scope="module")
def daily_world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """The trained world with two daily runs: every page has its tables."""
    world = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("every_page"))
    run_days(world, 2)
    return world


@pytest.fixture(scope="module")
def role_urls(daily_world: TrainedWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    logs = tmp_path_factory.mktemp("every_page_logs")
    urls: dict[str, str] = {}
    servers = [serve(daily_world.store, logs / f"{role}.log", JOURNEYOPS_LOCAL_ROLE=role) for role in roles.ROLES]
    try:
        for role, server in zip(roles.ROLES, servers, strict=True):
            urls[role] = server.__enter__()
        yield urls
    finally:
        for server in servers:
            server.__exit__(None, None, None)


def settle(page: Page) -> None:
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_timeout(800)


def storage_names(texts: list[str]) -> list[str]:
    """The texts that are storage names: a whole snake_case word, or a missing value printed."""
    return [t for t in texts if SNAKE.match(t) or t in MISSING]


def read_tables(page: Page) -> list[dict]:
    """Open every expander, bring each table into view (its cells render only then) and read it."""
    for expander in page.get_by_test_id("stExpander").all():
        summary = expander.locator("summary")
        if expander.locator("details").get_attribute("open") is None:
            summary.click(timeout=5_000)
    settle(page)
    found = []
    frames = page.get_by_test_id("stDataFrame")
    for i in range(frames.count()):
        if not frames.nth(i).is_visible():  # in a tab not shown: TABLES_JS leaves it out too
            continue
        for _attempt in range(2):  # a busy machine draws late: bring it into view again once
            with contextlib.suppress(PlaywrightTimeoutError):  # a table with no header fails below
                frames.nth(i).scroll_into_view_if_needed(timeout=5_000)
                frames.nth(i).locator("th").first.wait_for(timeout=10_000)
                break
        visible = [j for j in range(frames.count()) if frames.nth(j).is_visible()]
        found.append(page.evaluate(TABLES_JS)[visible.index(i)])
    return found


def problems_of(page: Page, where: str) -> list[str]:
    problems = []
    for i, table in enumerate(read_tables(page)):
        name = f"{where} table {i + 1}"
        if not table["headers"]:
            problems.append(f"{name}: no header rendered")
        bad = storage_names(table["headers"]) + storage_names(table["cells"])
        if bad:
            problems.append(f"{name}: storage names {sorted(set(bad))}")
        if table["scrollWidth"] > table["clientWidth"] + 1:
            problems.append(f"{name}: {table['scrollWidth']} px of columns in {table['clientWidth']} px")
        if table["right"] > table["mainRight"] + 1:
            problems.append(f"{name}: ends at {table['right']} px, the page at {table['mainRight']} px")
    labels = [m.inner_text().strip() for m in page.get_by_test_id("stMetricLabel").all()]
    if storage_names(labels):
        problems.append(f"{where} tiles: {storage_names(labels)}")
    return problems


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_page_reads_as_words_and_fits_1400_px(role, role_urls):
    url = role_urls[role]
    specs = available_pages(role=role)
    assert specs, role
    problems: list[str] = []
    tables = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH_PX, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")  # the root first: app.py's navigation
            page.get_by_role("heading").first.wait_for(timeout=WAIT_MS)
            for spec in specs:
                page.goto(f"{url}/{spec.url_path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=spec.title, exact=True).first.wait_for(timeout=WAIT_MS)
                settle(page)
                assert page.get_by_test_id("stException").count() == 0, spec.key
                tables += page.get_by_test_id("stDataFrame").count()
                problems += problems_of(page, f"{role}/{spec.key}")
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
    assert tables >= len(specs) // 2  # the store fills the pages: the checks above saw real tables


def test_the_check_catches_storage_names():
    assert storage_names(["Order", "cost_per_forecast_eur", "None", "forecaster-v1", "", "payment hold"]) == [
        "cost_per_forecast_eur",
        "None",
    ]


def test_chromium_is_there():
    assert Path(CHROMIUM).is_file(), "apt-get install chromium"
