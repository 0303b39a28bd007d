"""The triage flow in headless Chromium against a real `streamlit run app.py`: open the list, filter,
open an order, record an action, reload — the action is there. Screenshots of the daily-work pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.triage import worklist
from tests.browser.test_process_insights_page import chromium_page, serve
from tests.conftest import TEST_SCREENSHOTS
from tests.fixtures_worklist import demo_daily_store
from ui.navigation import PAGES

pytestmark = pytest.mark.browser

SCREENSHOTS = TEST_SCREENSHOTS
WAIT_MS = 30_000
AT_RISK = next(spec for spec in PAGES if spec.key == "at_risk")
ORDER_LOOKUP = next(spec for spec in PAGES if spec.key == "order_lookup")


@pytest.fixture(scope="module")
def daily_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_daily_store(tmp_path_factory)


@pytest.fixture(scope="module")
def triage_url(daily_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streamlit_triage") / "server.log"
    with serve(daily_store, log, JOURNEYOPS_LOCAL_ROLE="triage") as url:
        yield url


def settle(page: Page) -> None:
    """Wait until the script has finished running and nothing raised."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    assert page.get_by_test_id("stException").count() == 0


def open_page(page: Page, url: str, heading: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).wait_for(timeout=WAIT_MS)
    settle(page)


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a Streamlit selectbox or multiselect by its label."""
    widget = (
        page.get_by_test_id("stSelectbox")
        .or_(page.get_by_test_id("stMultiSelect"))
        .filter(has=page.get_by_text(label, exact=True))
    )
    widget.locator("input").first.click()
    widget.locator("input").first.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    if widget.get_by_test_id("stMultiSelect").count() or "stMultiSelect" in (widget.get_attribute("data-testid") or ""):
        page.keyboard.press("Escape")  # a multiselect stays open for more choices
    settle(page)


def test_the_triage_flow(triage_url, daily_store):
    day = worklist.list_days(daily_store)[0]
    full = worklist.read_worklist(day, None, daily_store)
    carrier = full["carrier"].value_counts().index[0]
    order_id = full.loc[full["carrier"] == carrier, "order_id"].iloc[0]
    with chromium_page() as page:
        open_page(page, triage_url, "Today")  # the root first: it switches the server to app.py's navigation
        expect(page.get_by_text("Local single-user mode — role triage")).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        assert nav.get_by_text("Drift", exact=True).count() == 0  # not a triage page
        assert nav.get_by_text("At-risk list", exact=True).count() == 1
        page.screenshot(path=str(SCREENSHOTS / "today.png"))

        open_page(page, f"{triage_url}/{AT_RISK.url_path}", "At-risk list")
        expect(page.get_by_text(f"{len(full)} of {len(full)} orders match")).to_be_visible()
        pick(page, "Carrier", carrier)
        matching = int((full["carrier"] == carrier).sum())
        expect(page.get_by_text(f"{matching} of {len(full)} orders match")).to_be_visible()

        pick(page, "Open an order", order_id)
        expect(page.get_by_test_id("stForm")).to_contain_text(f"Record an action on {order_id}")
        pick(page, "Action", "Chased carrier")
        page.get_by_label("Note").fill("=asked carrier for a new slot")
        page.get_by_role("button", name="Record action").click()
        expect(page.get_by_text(f"Recorded: Chased carrier on {order_id} by local.")).to_be_visible(timeout=WAIT_MS)
        settle(page)

        page.reload(wait_until="domcontentloaded")
        page.get_by_role("heading", name="At-risk list").wait_for(timeout=WAIT_MS)
        settle(page)
        pick(page, "Open an order", order_id)
        actions_table = page.get_by_test_id("stDataFrame").last
        expect(actions_table).to_contain_text("Chased carrier", timeout=WAIT_MS)
        expect(actions_table).to_contain_text("local")
        page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(SCREENSHOTS / "at_risk.png"))

    stored = worklist.read_actions(order_id, day, daily_store)
    assert stored[["action", "note", "actor"]].values.tolist()[0] == [
        "chased_carrier",
        "=asked carrier for a new slot",
        "local",
    ]


def test_order_lookup_in_chromium(triage_url, daily_store):
    day = worklist.list_days(daily_store)[0]
    order_id = worklist.read_worklist(day, None, daily_store)["order_id"].iloc[0]
    with chromium_page() as page:
        open_page(page, triage_url, "Today")
        open_page(page, f"{triage_url}/{ORDER_LOOKUP.url_path}", "Order lookup")
        page.get_by_label("Order id").fill(order_id)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="How the forecast moved").wait_for(timeout=WAIT_MS)
        page.locator(".js-plotly-plot").nth(1).wait_for(timeout=WAIT_MS)
        settle(page)
        page.wait_for_timeout(1_000)
        expect(page.get_by_text("Customer sees")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "order_lookup.png"))
    for name in ("today", "at_risk", "order_lookup"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000
