"""Every page, for every role, in headless Chromium at 1400 px against a store with real daily runs:
no heading, table header, cell, tile label, chart axis, tick or legend, nor a value quoted as code in
a sentence shows a storage name (a snake_case word, `None`, `nan`) and no table is wider than the
page (no sideways scrolling inside a table, no table past the main column).

Admin sees every page and every action, so admin also opens an order on the pages that show one.
Every other role's server lists exactly the pages the role may open, opens and reads each of them
(reading a page already run is cheap), and refuses the address of a page it may not open. One
Chromium for the module; each page is opened from the sidebar in one session (no reload), and every
wait is for a concrete state: the page's heading, Streamlit's script state, each table's header."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from core.access import roles
from core.triage import worklist
from tests.browser.test_process_insights_page import CHROMIUM, CHROMIUM_ARGS, serve
from tests.test_scenarios import TrainedWorld, copy_world, run_days, session_world
from ui.display import PATH_SEP
from ui.navigation import PAGES, PageSpec, available_pages, default_page

pytestmark = pytest.mark.browser

WIDTH_PX = 1400
# Tall, so every table is in view at once: the grid renders the cells of its visible rows only.
HEIGHT_PX = 4000
WAIT_MS = 60_000
HEADER_PX = 36  # the grid's header row; each row below it is ROW_PX tall
ROW_PX = 35
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
# In a label (a header, heading, tile, axis or legend) a storage name is wrong anywhere in it.
SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
MISSING = {"None", "nan", "NaN", "NaT", "<NA>", "null", "undefined"}
# The script has finished (Streamlit's own end-to-end tests wait on this) and nothing stale is left.
RUN_DONE_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return app !== null && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && document.querySelector('[data-stale=true]') === null;
}"""
# Every visible table has drawn its header (the grid keeps an accessible <table> of the cells in view).
TABLES_DRAWN_JS = """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))
  .filter(el => el.offsetParent !== null)
  .every(el => el.querySelector('th') !== null)"""
# What a reader sees of the page: per table its box against the main column, its scroller's widths,
# its headers and cells; the headings, tile labels and chart axis and legend titles.
READ_JS = """() => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]').getBoundingClientRect();
  const texts = (selector) => Array.from(document.querySelectorAll(selector))
    .filter(el => el.getClientRects().length > 0)
    .map(el => el.textContent.trim());
  return {
    tables: Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))
      .filter(el => el.offsetParent !== null)
      .map(el => {
        const box = el.getBoundingClientRect();
        const scroller = el.querySelector('.dvn-scroller');
        return {
          right: box.right, mainRight: main.right,
          scrollWidth: scroller ? scroller.scrollWidth : 0, clientWidth: scroller ? scroller.clientWidth : 0,
          headers: Array.from(el.querySelectorAll('th')).map(t => t.innerText.trim()),
          cells: Array.from(el.querySelectorAll('td')).map(t => t.innerText.trim()),
        };
      }),
    headings: texts('[data-testid=stMain] [data-testid=stHeading]'),
    tiles: texts('[data-testid=stMetricLabel]'),
    code: texts('[data-testid=stMain] [data-testid=stMarkdownContainer] code'),
    axes: texts(['.g-xtitle', '.g-ytitle', '.xtick text', '.ytick text', '.annotation-text', '.gtitle']
      .map(s => '.js-plotly-plot ' + s).join(', ')),
    legends: texts('.js-plotly-plot .legendtitletext, .js-plotly-plot .legendtext, .js-plotly-plot .cbtitle'),
    charts: document.querySelectorAll('.js-plotly-plot').length,
  };
}"""


def storage_names(texts: list[str]) -> list[str]:
    """The texts that are storage names: a whole snake_case word, or a missing value printed."""
    return [t for t in texts if SNAKE.match(t) or t in MISSING]


def labels_with_storage_names(texts: list[str]) -> list[str]:
    """The labels that are, or hold, a storage name: `gap to overall (mae_h)` as well as `None`.
    (A cell may quote stored data, such as a quarantined record: cells are judged whole.)"""
    return [t for t in texts if SNAKE_WORD.search(t) or t in MISSING]


def problems_in(seen: dict, where: str) -> list[str]:
    """What a reader would stumble on in what READ_JS saw of one page."""
    problems = []
    for i, table in enumerate(seen["tables"]):
        name = f"{where} table {i + 1}"
        if not table["headers"]:
            problems.append(f"{name}: no header rendered")
        stages = [stage for cell in table["cells"] for stage in cell.split(PATH_SEP)]  # a path: each stage whole
        bad = labels_with_storage_names(table["headers"]) + storage_names(stages)
        if bad:
            problems.append(f"{name}: storage names {sorted(set(bad))}")
        if table["scrollWidth"] > table["clientWidth"] + 1:
            problems.append(f"{name}: {table['scrollWidth']} px of columns in {table['clientWidth']} px")
        if table["right"] > table["mainRight"] + 1:
            problems.append(f"{name}: ends at {table['right']:.0f} px, the page at {table['mainRight']:.0f} px")
    for part in ("headings", "tiles", "axes", "legends"):
        bad = labels_with_storage_names(seen[part])
        if bad:
            problems.append(f"{where} {part}: storage names {sorted(set(bad))}")
    bad = storage_names(seen["code"])  # a value quoted as code in a sentence: `payment_hold`
    if bad:
        problems.append(f"{where} text: storage names {sorted(set(bad))}")
    return problems


@pytest.fixture(scope="module")
def daily_world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """The trained world with two daily runs: every page has its tables."""
    world = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("every_page"))
    run_days(world, 2)
    return world


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def wait_for_run(page: Page, title: str) -> None:
    """Until the page titled `title` has finished its run: its heading shown, the script done."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=WAIT_MS)
    page.wait_for_function(RUN_DONE_JS, timeout=WAIT_MS)


def open_app(browser: Browser, url: str, role: str) -> Page:
    """A 1400 px page on the app's root (a fresh server's first session switches Streamlit from its
    legacy pages/ mode to app.py's navigation), the whole navigation unfolded."""
    page = browser.new_page(viewport={"width": WIDTH_PX, "height": HEIGHT_PX})
    page.goto(url, wait_until="domcontentloaded")
    start = default_page(role=role)
    assert start is not None, role
    wait_for_run(page, start.title)
    more = page.get_by_test_id("stSidebarNavViewButton")
    if more.count() and "more" in more.inner_text().lower():
        more.click()
    return page


def nav_titles(page: Page) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    # a link reads its icon's ligature, then its title
    return [link.inner_text().strip().splitlines()[-1] for link in links.all()]


def go_to(page: Page, spec: PageSpec) -> None:
    """Open a page from the sidebar, as a person does: the same session, no reload. The page already
    shown (the start page) is not clicked again: its rerun would race the reading."""
    if page.locator("[data-testid=stMain] h1").first.inner_text().strip() != spec.title:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=spec.title, exact=True).click()
    wait_for_run(page, spec.title)
    assert page.get_by_test_id("stException").count() == 0, spec.key


def read_page(page: Page) -> dict:
    """Open every expander, wait for every visible table's header, and read the page."""
    closed = page.locator("[data-testid=stExpander] details:not([open]) > summary")
    for _ in range(closed.count()):  # each click opens one: the first closed one is the next
        closed.first.click()
    page.wait_for_function(TABLES_DRAWN_JS, timeout=WAIT_MS)
    return page.evaluate(READ_JS)


def open_an_order(page: Page, spec: PageSpec, order_id: str) -> None:
    """The half of a page that shows one order: the at-risk list's first row clicked (in its row-marker
    column: the grid is a canvas), the order typed into Order lookup."""
    if spec.key == "at_risk":
        box = page.get_by_test_id("stDataFrame").first.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX / 2)
        page.get_by_text("Journey so far").first.wait_for(timeout=WAIT_MS)
    elif spec.key == "order_lookup":
        page.get_by_label("Order id").fill(order_id)
        page.get_by_label("Order id").press("Enter")
        page.get_by_role("heading", name="Journey so far").wait_for(timeout=WAIT_MS)
    else:
        return
    page.wait_for_function(RUN_DONE_JS, timeout=WAIT_MS)
    assert page.get_by_test_id("stException").count() == 0, spec.key


@pytest.fixture(scope="module")
def admin_url(daily_world: TrainedWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(daily_world.store, tmp_path_factory.mktemp("every_page_logs") / "admin.log") as url:
        yield url


def test_every_page_reads_as_words_and_fits_1400_px(browser, admin_url, daily_world):
    listed = worklist.read_worklist(worklist.list_days(daily_world.store)[0], None, daily_world.store)
    specs = available_pages(role="admin")
    assert [spec.key for spec in specs] == [spec.key for spec in PAGES]  # admin sees every page
    page = open_app(browser, admin_url, "admin")
    assert nav_titles(page) == [spec.title for spec in specs]
    problems: list[str] = []
    tables = charts = 0
    for spec in specs:
        go_to(page, spec)
        open_an_order(page, spec, listed["order_id"].iloc[0])
        seen = read_page(page)
        tables += len(seen["tables"])
        charts += seen["charts"]
        problems += problems_in(seen, spec.key)
    page.close()
    assert problems == [], "\n".join(problems)
    # the store fills the pages: the checks above saw real tables and charts
    assert tables >= len(specs) and charts >= len(specs) // 2, (tables, charts)


@pytest.mark.parametrize("role", [role for role in roles.ROLES if role != "admin"])
def test_a_role_reads_its_own_pages_and_no_other(role, browser, daily_world, tmp_path):
    allowed = available_pages(role=role)
    forbidden = [spec for spec in PAGES if spec not in allowed]
    assert forbidden, role
    with serve(daily_world.store, tmp_path / "server.log", JOURNEYOPS_LOCAL_ROLE=role) as url:
        page = open_app(browser, url, role)
        assert nav_titles(page) == [spec.title for spec in allowed]
        problems: list[str] = []
        for spec in allowed:
            go_to(page, spec)
            problems += problems_in(read_page(page), f"{role}/{spec.key}")
        assert problems == [], "\n".join(problems)
        # A forbidden page's address is not routed: it falls to the role's start page.
        page.goto(f"{url}/{forbidden[0].url_path}", wait_until="domcontentloaded")
        title = page.locator("[data-testid=stMain] h1").first
        title.wait_for(timeout=WAIT_MS)
        page.wait_for_function(RUN_DONE_JS, timeout=WAIT_MS)
        start = default_page(role=role)
        assert start is not None and title.inner_text().strip() == start.title, forbidden[0].key
        page.close()


def test_the_check_catches_storage_names():
    assert storage_names(["Order", "cost_per_forecast_eur", "None", "forecaster-v1", "", "payment hold"]) == [
        "cost_per_forecast_eur",
        "None",
    ]


def test_the_check_catches_a_storage_name_inside_a_label_but_judges_a_cell_whole():
    assert labels_with_storage_names(["gap to overall (mae_h)", "Customer tier: vip", "nan", "p10 (h)"]) == [
        "gap to overall (mae_h)",
        "nan",
    ]
    assert storage_names(['{"order_id": "O-1"}', "payment_hold"]) == ["payment_hold"]
    table = {"right": 900, "mainRight": 1380, "scrollWidth": 800, "clientWidth": 800, "headers": ["Path"]}
    seen = {
        "tables": [{**table, "cells": ["Placed → payment_hold"]}],
        "headings": [],
        "tiles": [],
        "axes": [],
        "legends": [],
        "code": [],
    }
    assert problems_in(seen, "p") == ["p table 1: storage names ['payment_hold']"]


def test_the_check_catches_a_wide_table_and_a_snake_case_axis():
    table = {"right": 1500, "mainRight": 1380, "scrollWidth": 1200, "clientWidth": 900, "headers": [], "cells": []}
    seen = {
        "tables": [table],
        "headings": [],
        "tiles": [],
        "axes": ["customer_tier: vip"],
        "legends": ["None"],
        "code": ["python -m core demo", "payment_hold"],
    }
    assert problems_in(seen, "p") == [
        "p table 1: no header rendered",
        "p table 1: 1200 px of columns in 900 px",
        "p table 1: ends at 1500 px, the page at 1380 px",
        "p axes: storage names ['customer_tier: vip']",
        "p legends: storage names ['None']",
        "p text: storage names ['payment_hold']",
    ]


def test_chromium_is_there():
    assert Path(CHROMIUM).is_file(), "apt-get install chromium"
