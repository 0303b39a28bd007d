"""The triage morning in headless Chromium against a real `streamlit run app.py` and real daily runs:
open the list, click the first order, record an action, move to the next and see the first marked;
then the daily job runs the next day in the store and the page shows what became of the order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from core.jobs import closed_loop, daily
from core.triage import morning, worklist
from tests.browser.test_process_insights_page import chromium_page, serve
from tests.browser.test_triage_flow import open_page, pick, settle
from tests.test_scenarios import TrainedWorld, copy_world, run_days, session_world
from ui.navigation import PAGES

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
AT_RISK = next(spec for spec in PAGES if spec.key == "at_risk")
HEADER_PX = 36  # the grid's header row; each row below is as tall
ROW_PX = 35


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """The trained world with two daily runs: two mornings of lists."""
    copy = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("triage_morning"))
    run_days(copy, 2)
    return copy


@pytest.fixture(scope="module")
def triage_url(world: TrainedWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("triage_morning_log") / "server.log"
    with serve(world.store, log, JOURNEYOPS_LOCAL_ROLE="triage") as url:
        yield url


def run_next_day(world: TrainedWorld) -> None:
    """The daily job of the morning after the last run, as the scheduler would run it."""
    simulated = closed_loop.load_world(world.store)
    assert simulated is not None
    state = closed_loop.world_state_file(world.store)
    daily.run_daily(
        simulated.day,
        world.store,
        feed=closed_loop.world_feed(simulated, world.store, state_file=state),
        retrain=False,
    )


def click_row(page: Page, table_index: int, row: int) -> None:
    """Click a row of a grid in its row-marker column (Streamlit draws the grid on a canvas)."""
    grid = page.get_by_test_id("stDataFrame").nth(table_index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)
    settle(page)


def test_the_triage_morning(triage_url: str, world: TrainedWorld) -> None:
    day = worklist.list_days(world.store)[0]
    listed = worklist.read_worklist(day, None, world.store)
    first, second = listed["order_id"].iloc[0], listed["order_id"].iloc[1]
    marks = morning.list_markers(day, worklist.list_days(world.store), world.store).set_index("order_id")
    with chromium_page() as page:
        open_page(page, triage_url, "Today")  # the root first: it switches the server to app.py's navigation
        open_page(page, f"{triage_url}/{AT_RISK.url_path}", "At-risk list")
        the_list = page.get_by_test_id("stDataFrame").first
        expect(the_list).to_contain_text(first)
        expect(the_list).to_contain_text(marks.loc[first, "marker"])

        click_row(page, 0, 0)  # open the first order from its row
        panel = page.get_by_text(f"#1 of {len(listed)} · {first}")
        expect(panel).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("stForm")).to_contain_text(f"Record an action on {first}")
        pick(page, "Action", "Chased carrier")
        page.get_by_label("Note").fill("asked for a new slot")
        page.get_by_role("button", name="Record action").click()
        expect(page.get_by_text(f"Recorded: Chased carrier on {first} by local.")).to_be_visible(timeout=WAIT_MS)
        settle(page)

        page.get_by_role("button", name="Next order").click()
        settle(page)
        expect(page.get_by_text(f"#2 of {len(listed)} · {second}")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Chased carrier")  # the first is marked

        run_next_day(world)  # the next morning's daily job, between two page loads
        page.reload(wait_until="domcontentloaded")
        page.get_by_role("heading", name="Follow-up on earlier actions").wait_for(timeout=WAIT_MS)
        settle(page)
        next_day = worklist.list_days(world.store)[0]
        assert next_day == day + timedelta(days=1)
        outcomes = morning.action_outcomes(next_day, world.store)
        outcome = outcomes.loc[(outcomes["order_id"] == first) & (outcomes["list_date"] == pd.Timestamp(day))].iloc[0]
        follow_up = page.get_by_test_id("stDataFrame").nth(1)
        follow_up.scroll_into_view_if_needed()
        expect(follow_up).to_contain_text(first)
        expect(follow_up).to_contain_text("Chased carrier")
        expect(follow_up).to_contain_text(outcome["outcome"])
        expect(page.get_by_text(f"The list of {next_day:%A %d %B %Y}")).to_be_visible()
    stored = worklist.read_actions(first, next_day, world.store)
    assert stored.loc[stored["actor"] == "local", ["action", "note"]].values.tolist() == [
        ["chased_carrier", "asked for a new slot"]
    ]
    assert outcome["actor"] == "local"
    assert outcomes.index[outcomes["order_id"] == first][0] == 0  # the newest action: the first row
