"""Sign-in with OpenID Connect in headless Chromium: a real `streamlit run app.py` signs people in
through a real provider on 127.0.0.1 (oidc-provider-mock). A triage user and an admin, with
different group claims, each see only their pages; a triage action and a promotion record the
person; sign-out ends the session; a person without a mapped group sees a no-access page; a tampered
or expired session is refused."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.access import signin
from core.registry import promotion, versions
from core.triage import worklist
from tests import test_registry
from tests.browser import oidc
from tests.browser.oidc import WAIT_MS, settle, sign_in
from tests.browser.test_process_insights_page import chromium_page, free_port, wait_until_healthy
from tests.browser.test_triage_flow import pick
from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import demo_daily_store
from ui.navigation import PAGES
from ui.session import SIGN_IN_NOTE, SIGNED_IN_AS

pytestmark = pytest.mark.browser

AT_RISK = next(spec for spec in PAGES if spec.key == "at_risk")
MODELS = next(spec for spec in PAGES if spec.key == "models")
TRIAGE_PAGES = ["Today", "At-risk list", "Order lookup", "Process insights"]
SESSION_HOURS = 8


@dataclass(frozen=True)
class Dashboard:
    url: str
    store: Path
    provider: oidc.Provider
    cookie_secret: str


@contextlib.contextmanager
def serve_signed_in(store: Path, folder: Path, provider: oidc.Provider) -> Iterator[Dashboard]:
    """`streamlit run app.py` on 127.0.0.1 with sign-in secrets written into `folder` (never the repo)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cookie_secret = oidc.new_cookie_secret()
    secrets_file = oidc.write_secrets(
        folder / "secrets.toml", oidc.secrets_toml(provider, url, cookie_secret, SESSION_HOURS)
    )
    log = folder / "server.log"
    argv = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    argv += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    argv += ["--secrets.files", str(secrets_file)]
    env = {**os.environ, "JOURNEYOPS_STORE": str(store), "JOURNEYOPS_MODELS": str(folder / "models")}
    env.pop("JOURNEYOPS_LOCAL_ROLE", None)
    with log.open("wb") as log_file:
        server = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(url, server, log)
        yield Dashboard(url, store, provider, cookie_secret)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The demo's daily lists plus two forecasters (v1 champion, v2 a cheaper challenger)."""
    folder = tmp_path_factory.mktemp("signin")
    store = folder / "journeyops.duckdb"
    shutil.copy(demo_daily_store(tmp_path_factory), store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOURNEYOPS_MODELS", str(folder / "models"))
        model, _ = test_registry.fit_tiny_forecaster()
        first = test_registry.register(store, model, cost=10.0)
        promotion.promote(first.version_id, actor="ana", reason="first", expected_champion=None, store_path=store)
        test_registry.register(store, model, cost=8.0)
    with oidc.running_provider() as provider, serve_signed_in(store, folder, provider) as served:
        yield served


def nav_titles(page: Page) -> list[str]:
    # a link's text is its icon's name, then its title
    return [text.split("\n")[-1] for text in page.get_by_test_id("stSidebarNav").locator("a").all_inner_texts()]


def expect_sign_in_screen(page: Page) -> None:
    page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT_MS)
    expect(page.get_by_text(SIGN_IN_NOTE)).to_be_visible()
    assert page.get_by_test_id("stSidebarNav").count() == 0  # no page of the app is routed


def test_a_visitor_gets_the_sign_in_screen_and_nothing_else(dashboard):
    with chromium_page() as page:
        page.goto(dashboard.url, wait_until="domcontentloaded")
        expect_sign_in_screen(page)
        page.goto(f"{dashboard.url}/{AT_RISK.url_path}", wait_until="domcontentloaded")
        expect_sign_in_screen(page)
        assert page.get_by_role("heading", name="At-risk list").count() == 0


def test_a_triage_user_sees_only_triage_pages_and_the_action_records_the_person(dashboard):
    day = worklist.list_days(dashboard.store)[0]
    order_id = worklist.read_worklist(day, None, dashboard.store)["order_id"].iloc[0]
    actor = dashboard.provider.actor("tina")
    with chromium_page() as page:
        sign_in(page, dashboard.url, "tina")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        settle(page)
        expect(page.get_by_text(SIGNED_IN_AS.format(name="tina@example.com", role="triage"))).to_be_visible()
        assert nav_titles(page) == TRIAGE_PAGES
        assert page.get_by_text("Local single-user mode").count() == 0

        # an admin page's address is not routed for this role: it falls to the default page
        page.goto(f"{dashboard.url}/{MODELS.url_path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        settle(page)
        assert page.get_by_role("heading", name="Models").count() == 0

        page.goto(f"{dashboard.url}/{AT_RISK.url_path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="At-risk list").wait_for(timeout=WAIT_MS)
        settle(page)
        pick(page, "Open an order", order_id)
        pick(page, "Action", "Chased carrier")
        page.get_by_label("Note").fill("new slot tomorrow")
        page.get_by_role("button", name="Record action").click()
        expect(page.get_by_text(f"Recorded: Chased carrier on {order_id} by {actor}.")).to_be_visible(timeout=WAIT_MS)
    stored = worklist.read_actions(order_id, day, dashboard.store)
    assert stored[["action", "note", "actor"]].values.tolist() == [["chased_carrier", "new slot tomorrow", actor]]


def test_an_admin_sees_every_page_and_the_promotion_records_the_person(dashboard):
    with chromium_page() as page:
        sign_in(page, dashboard.url, "ada")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        settle(page)
        expect(page.get_by_text(SIGNED_IN_AS.format(name="ada@example.com", role="admin"))).to_be_visible()
        assert nav_titles(page) == [spec.title for spec in PAGES]

        page.goto(f"{dashboard.url}/{MODELS.url_path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Promote or roll back").wait_for(timeout=WAIT_MS)
        settle(page)
        page.get_by_label("Reason (recorded in the audit log)").fill("cheaper on the holdout")
        page.get_by_role("button", name="Apply").click()
        page.get_by_text("Champion: forecaster-v2").wait_for(timeout=WAIT_MS)
        settle(page)
    assert versions.get_champion("forecaster", dashboard.store).version_id == "forecaster-v2"
    audit = versions.audit_log(dashboard.store, "forecaster")
    assert [(a["action"], a["version_id"], a["actor"], a["reason"]) for a in audit] == [
        ("promote", "forecaster-v1", "ana", "first"),
        ("promote", "forecaster-v2", dashboard.provider.actor("ada"), "cheaper on the holdout"),
    ]


def test_sign_out_ends_the_session(dashboard):
    with chromium_page() as page:
        sign_in(page, dashboard.url, "tina")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        settle(page)
        page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        # the provider's end-session page, then back to the dashboard
        page.get_by_role("button", name="End session").click(timeout=WAIT_MS)
        expect_sign_in_screen(page)
        assert [c["name"] for c in page.context.cookies() if c["name"].startswith("_streamlit_user")] == []
        page.goto(f"{dashboard.url}/{AT_RISK.url_path}", wait_until="domcontentloaded")
        expect_sign_in_screen(page)


def test_a_person_without_a_mapped_group_gets_the_no_access_page(dashboard):
    with chromium_page() as page:
        sign_in(page, dashboard.url, "nobody")
        page.get_by_role("heading", name="No access").wait_for(timeout=WAIT_MS)
        settle(page)
        expect(page.get_by_text("no value of the claim 'groups' (marketing) maps to a JourneyOps role")).to_be_visible()
        assert page.get_by_test_id("stSidebarNav").count() == 0
        page.goto(f"{dashboard.url}/{AT_RISK.url_path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="No access").wait_for(timeout=WAIT_MS)
        assert page.get_by_role("heading", name="At-risk list").count() == 0
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click(timeout=WAIT_MS)
        expect_sign_in_screen(page)


def set_identity_cookie(page: Page, dashboard: Dashboard, value: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "_streamlit_user", "value": value, "url": dashboard.url}])


def test_a_tampered_or_expired_session_is_refused(dashboard):
    origin = dashboard.url
    with chromium_page() as page:
        sign_in(page, dashboard.url, "tina")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        (real,) = [c for c in page.context.cookies() if c["name"] == "_streamlit_user"]

        # a forged identity: the real cookie with its payload swapped for an admin's, signature kept
        payload, _, signature = real["value"].rpartition(".")
        forged_claims = oidc.issued_claims(dashboard.provider, "ada", age_s=60)
        forged = oidc.user_cookie(forged_claims, origin, "not-the-secret").rpartition(".")[0]
        for tampered in (f"{forged}.{signature}", f"{payload[:-2]}xx.{signature}"):
            set_identity_cookie(page, dashboard, tampered)
            page.goto(dashboard.url, wait_until="domcontentloaded")
            expect_sign_in_screen(page)

        # signed with the right secret but issued longer ago than a session lasts
        stale = oidc.issued_claims(dashboard.provider, "tina", age_s=(SESSION_HOURS + 1) * 3600)
        set_identity_cookie(page, dashboard, oidc.user_cookie(stale, origin, dashboard.cookie_secret))
        page.goto(dashboard.url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Session expired").wait_for(timeout=WAIT_MS)
        expect(page.get_by_text("has expired (sessions last 8 h); sign in again")).to_be_visible()
        assert page.get_by_test_id("stSidebarNav").count() == 0

        # the same cookie issued a minute ago opens the dashboard: the refusal above is the age alone
        fresh = oidc.issued_claims(dashboard.provider, "tina", age_s=60)
        set_identity_cookie(page, dashboard, oidc.user_cookie(fresh, origin, dashboard.cookie_secret))
        page.goto(dashboard.url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
        assert nav_titles(page) == TRIAGE_PAGES
    assert signin.DEFAULT_SESSION_HOURS == SESSION_HOURS
