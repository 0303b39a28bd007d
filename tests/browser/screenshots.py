"""The README's screenshots, taken from a store as a person sees it: `make screenshots` (the default demo
store, `data/journeyops.duckdb`) or `python -m tests.browser.screenshots --store S --out DIR`.

A real `streamlit run app.py` as admin on 127.0.0.1, headless Chromium at 1440 px; each page opened from
the sidebar and shot once its run has finished (the at-risk list and Order lookup with an order open).
Not a test: the pictures are documentation, and the browser tests check the pages themselves."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from core import config
from tests.browser.test_every_page_reads import RUN_DONE_JS, WAIT_MS, go_to, open_an_order, open_app
from tests.browser.test_process_insights_page import CHROMIUM, CHROMIUM_ARGS, serve
from ui.navigation import available_pages

WIDTH_PX, HEIGHT_PX = 1440, 3000
ROLE = "admin"


def first_order(store_path: Path) -> str:
    """The first order of the newest triage list: the one Order lookup shows."""
    from core.triage import ranking

    listed = ranking.read_triage_list(store_path=store_path)
    if listed.empty:
        raise SystemExit(f"{store_path} has no triage list: run the demo first (`make demo`)")
    return str(listed["order_id"].iloc[0])


def shoot(page: Page, target: Path) -> None:
    page.wait_for_function(RUN_DONE_JS, timeout=WAIT_MS)
    page.screenshot(path=str(target))
    print(f"wrote {target}", file=sys.stderr)


def take(store_path: Path, out: Path) -> list[Path]:
    """Every page the admin sees, one PNG each, named by the page's key."""
    out.mkdir(parents=True, exist_ok=True)
    order_id = first_order(store_path)
    written = []
    with tempfile.TemporaryDirectory() as logs, contextlib.ExitStack() as stack:
        url = stack.enter_context(serve(store_path, Path(logs) / "streamlit.log", JOURNEYOPS_LOCAL_ROLE=ROLE))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        page = open_app(browser, url, ROLE)
        page.set_viewport_size({"width": WIDTH_PX, "height": HEIGHT_PX})
        for spec in available_pages(role=ROLE):
            go_to(page, spec)
            open_an_order(page, spec, order_id)
            target = out / f"{spec.key}.png"
            shoot(page, target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots", description=__doc__)
    parser.add_argument("--store", type=Path, default=config.store_path(None), help="store to show")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not args.store.exists():
        parser.error(f"no store at {args.store}: build the demo first (`make demo`)")
    take(args.store, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
