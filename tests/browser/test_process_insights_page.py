"""Headless Chromium loads the Process insights page of a real `streamlit run app.py` server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import REPO_ROOT, TEST_SCREENSHOTS
from tests.fixtures import ORDER_WORLD_EVENTS, demo_store, write_events
from ui.layout import BUSY_NOTE, BUSY_REFRESH_S
from ui.navigation import PAGES, page_url_path

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Streamlit scrolls inside its own container, so full_page misses content: use a tall viewport.
VIEWPORT = {"width": 1440, "height": 3000}
SCREENSHOT = TEST_SCREENSHOTS / "process_insights.png"
STARTUP_TIMEOUT_S = 60
# Another process writing the store: it holds DuckDB's file lock until a line arrives on stdin.
HOLD_LOCK = "import sys, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('locked', flush=True)\nsys.stdin.readline()\n"
PROCESS_INSIGHTS = next(spec for spec in PAGES if spec.script == "pages/process_insights.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit was not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@contextlib.contextmanager
def serve(store: Path, log: Path, **env: str) -> Iterator[str]:
    """A real `streamlit run app.py` on a free port of 127.0.0.1 reading `store`; yields its URL."""
    port = free_port()
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "JOURNEYOPS_STORE": str(store), **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def chromium_page() -> Iterator[Page]:
    """A tall page in Debian's headless Chromium; fails (never skips) when the browser is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=VIEWPORT)
        finally:
            browser.close()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with serve(demo_store(tmp_path_factory), log) as url:
        yield url


def test_chromium_is_installed():
    # Fail, never skip: a CI run without a browser must not pass silently.
    if not CHROMIUM.is_file():
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium")


def test_process_insights_page_loads_in_chromium(dashboard_url):
    with chromium_page() as page:
        # The root first, as a person would: a fresh server's first session is the one that
        # switches Streamlit from its legacy pages/ mode to app.py's navigation.
        page.goto(dashboard_url, wait_until="domcontentloaded")
        if page_url_path(PROCESS_INSIGHTS):
            page.get_by_role("heading").first.wait_for(timeout=30_000)
            page.goto(f"{dashboard_url}/{page_url_path(PROCESS_INSIGHTS)}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Process insights").wait_for(timeout=30_000)
        page.locator(".js-plotly-plot").nth(2).wait_for(timeout=30_000)
        page.get_by_test_id("stDataFrame").last.wait_for(timeout=30_000)
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
        page.wait_for_timeout(1_000)  # let plotly finish its first draw
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_test_id("stMetric").count() == 6
        assert page.get_by_role("heading", name="Most common paths").count() == 1
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000


def test_the_page_refreshes_by_itself_once_a_job_releases_the_store(tmp_path):
    store = write_events(tmp_path / "journeyops.duckdb", ORDER_WORLD_EVENTS)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with serve(store, tmp_path / "server.log", JOURNEYOPS_LOCK_WAIT_S="0.3") as url:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            with chromium_page() as page:
                page.goto(f"{url}/{page_url_path(PROCESS_INSIGHTS)}", wait_until="domcontentloaded")
                page.get_by_text(BUSY_NOTE).wait_for(timeout=30_000)
                assert page.get_by_test_id("stException").count() == 0
                assert holder.stdin is not None
                holder.stdin.write("release\n")
                holder.stdin.close()
                holder.wait(timeout=30)
                # nobody clicks: the note's timer reruns the page once the writer is gone
                page.get_by_role("heading", name="Time in each stage").wait_for(timeout=(BUSY_REFRESH_S * 3) * 1000)
                assert page.get_by_text(BUSY_NOTE).count() == 0
    finally:
        holder.kill()
        holder.wait()
