"""The Retrain button: a double click starts one job, progress shows while it runs, the new versions appear.

The job is the real `python -m core retrain` on a small simulated world (about a minute of CPU)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from core.cli import main
from core.jobs import runs as jobs
from core.registry import versions
from tests.browser.test_process_insights_page import chromium_page, serve
from tests.conftest import TEST_SCREENSHOTS

pytestmark = pytest.mark.browser
SCREENSHOT = TEST_SCREENSHOTS / "models_retrain.png"
RETRAIN_TIMEOUT_MS = 420_000  # a 2-core machine shared with other jobs trains slowly


def untrained_world(folder: Path) -> Path:
    """The smallest demo world a retrain accepts (24 days × 100 orders), no model yet."""
    path = folder / "journeyops.duckdb"
    args = ["demo", "--store", str(path), "--days", "24", "--orders-per-day", "100", "--skip-training"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(args) == 0
    return path


def test_retrain_from_the_models_page(tmp_path):
    store = untrained_world(tmp_path)
    assert versions.list_versions(None, store) == []
    with serve(store, tmp_path / "server.log") as url, chromium_page() as page:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading").first.wait_for(timeout=30_000)
        page.goto(f"{url}/models", wait_until="domcontentloaded")
        page.get_by_text("No model trained yet").wait_for(timeout=60_000)
        page.get_by_role("button", name="Retrain").dblclick()  # impatient: the same job either way
        progress = page.get_by_test_id("stProgress")
        progress.wait_for(timeout=90_000)
        assert "retrain run" in progress.inner_text()
        page.mouse.move(900, 2000)  # no tooltip over the page
        page.wait_for_timeout(4_000)  # a few polls in: the bar has moved
        page.screenshot(path=str(SCREENSHOT))
        page.get_by_role("button", name="Retrain").click()  # once more while it runs
        # champion or challenger, as the gate decides: the caption names the new version either way
        page.get_by_text(re.compile(r"(Champion|challenger): forecaster-v1")).wait_for(timeout=RETRAIN_TIMEOUT_MS)
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_role("heading", name="Champion vs challenger").count() == 1
    runs = jobs.recent_runs("retrain", 10, store)
    assert runs["status"].tolist() == ["succeeded"]  # three presses, one job
    assert runs.loc[0, "params"] is not None and '"actor": "local"' in runs.loc[0, "params"]
    assert {v.version_id for v in versions.list_versions(None, store)} == {"forecaster-v1", "stuck_classifier-v1"}
