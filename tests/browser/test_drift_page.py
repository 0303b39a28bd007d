"""The Drift page builds Evidently's full report in a background job and shows it embedded."""

from __future__ import annotations

from datetime import date

import pytest

from core.jobs import runs
from tests.browser.test_process_insights_page import chromium_page, serve
from tests.conftest import TEST_SCREENSHOTS
from tests.fixtures import ORDER_WORLD_EVENTS, write_events
from tests.test_job_queue import DAY, drift_store

pytestmark = pytest.mark.browser
SCREENSHOT = TEST_SCREENSHOTS / "drift_report.png"


def test_the_report_is_built_in_the_background_and_embedded(tmp_path):
    store = drift_store(write_events(tmp_path / "journeyops.duckdb", ORDER_WORLD_EVENTS))
    with serve(store, tmp_path / "server.log") as url, chromium_page() as page:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading").first.wait_for(timeout=30_000)
        page.goto(f"{url}/drift", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Features per day").wait_for(timeout=60_000)
        page.get_by_test_id("stSelectbox").filter(has_text="Day").wait_for(timeout=30_000)
        page.get_by_role("button", name="Build the report").click()
        page.locator("iframe").first.wait_for(timeout=120_000)
        frame = page.locator("iframe").first.element_handle().content_frame()
        assert frame is not None
        frame.get_by_text("Dataset Drift is detected").wait_for(timeout=60_000)  # Evidently's own report
        assert frame.get_by_text("Wasserstein distance (normed)").count() == 1
        assert page.get_by_test_id("stException").count() == 0
        page.wait_for_timeout(2_000)
        page.screenshot(path=str(SCREENSHOT))
    run = runs.recent_runs("drift_report", 1, store).iloc[0]
    assert run["status"] == "succeeded"
    assert (tmp_path / "journeyops_reports" / f"drift_{DAY:%Y-%m-%d}.html").is_file()
    assert DAY == date(2026, 3, 2)


def test_a_click_on_a_heatmap_cell_picks_its_day_and_column(tmp_path):
    store = drift_store(write_events(tmp_path / "journeyops.duckdb", ORDER_WORLD_EVENTS))
    with serve(store, tmp_path / "server.log") as url, chromium_page() as page:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading").first.wait_for(timeout=30_000)
        page.goto(f"{url}/drift", wait_until="domcontentloaded")
        page.get_by_role("heading", name="One column, one day").wait_for(timeout=60_000)
        page.wait_for_url("**column=elapsed_h**", timeout=30_000)  # opens on the day's most drifted column
        # two rows (carrier above elapsed h), one day: the plot area's upper half is carrier's cell
        area = page.get_by_test_id("stPlotlyChart").first.locator(".nsewdrag").first.bounding_box()
        assert area is not None
        page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 4)
        page.mouse.click(area["x"] + area["width"] / 2, area["y"] + area["height"] / 4)
        page.wait_for_url(f"**day={DAY:%Y-%m-%d}&column=carrier**", timeout=30_000)
        assert page.get_by_test_id("stException").count() == 0
