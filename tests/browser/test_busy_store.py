"""A monitoring page opened while another process holds the store's write lock shows a calm note, never an error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.browser.test_process_insights_page import HOLD_LOCK, chromium_page, serve
from tests.fixtures import ORDER_WORLD_EVENTS, write_events
from ui.layout import BUSY_NOTE

pytestmark = pytest.mark.browser


def test_pages_opened_during_a_write_show_the_busy_note(tmp_path):
    store = write_events(tmp_path / "journeyops.duckdb", ORDER_WORLD_EVENTS)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with serve(store, tmp_path / "server.log", JOURNEYOPS_LOCK_WAIT_S="0.3") as url, chromium_page() as page:
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading").first.wait_for(timeout=30_000)
            for path, title in (
                ("forecast-accuracy", "Forecast accuracy"),
                ("models", "Models"),
                ("operations", "Operations"),
            ):
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=title).wait_for(timeout=30_000)
                page.get_by_text(BUSY_NOTE).wait_for(timeout=30_000)
                assert page.get_by_test_id("stException").count() == 0
                page.get_by_role("button", name="Refresh now").wait_for(timeout=30_000)
                assert page.get_by_test_id("stException").count() == 0
    finally:
        holder.kill()
        holder.wait()
