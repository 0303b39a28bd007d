"""Every page for every role: allowed pages run, forbidden pages are not in the navigation and refuse
to render when opened directly, and a forbidden action is refused on the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import roles
from core.triage import worklist
from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import TODAY, YESTERDAY, demo_daily_store, tiny_store
from ui import navigation, session

PAGE_FILES = sorted((REPO_ROOT / "pages").glob("*.py"))
TIMEOUT_S = 60
MATRIX = [(role, page) for role in roles.ROLES for page in PAGE_FILES]


@pytest.fixture(scope="module")
def daily_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_daily_store(tmp_path_factory)


def run_as(role: str, script: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", role)
    return AppTest.from_file(str(script), default_timeout=TIMEOUT_S).run()


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_navigation_holds_only_the_pages_a_role_may_see(role):
    shown = {spec.key for spec in navigation.available_pages(role=role)}
    existing = {p.stem for p in PAGE_FILES}
    assert shown == {key for key in existing if roles.can_see(role, key)}
    assert navigation.default_page(role=role).key == "today"  # every role starts the day on Today
    if role != "admin":
        assert shown < existing


def test_the_navigation_of_a_triage_user():
    assert [spec.key for spec in navigation.available_pages(role="triage")] == [
        "today",
        "at_risk",
        "order_lookup",
        "process_insights",
    ]


@pytest.mark.parametrize(("role", "page"), MATRIX, ids=[f"{r}-{p.stem}" for r, p in MATRIX])
def test_every_page_for_every_role(role, page, daily_store, monkeypatch):
    at = run_as(role, page, daily_store, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    refusal = session.FORBIDDEN_NOTE.format(role=role)
    if roles.can_see(role, page.stem):
        assert len(at.title) == 1
        assert refusal not in [w.value for w in at.warning]
    else:
        # opened directly (not through the navigation): the page refuses and shows nothing else
        assert refusal in [w.value for w in at.warning]
        assert not at.metric and not at.dataframe and not at.get("plotly_chart")


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_app_shows_the_local_mode_banner(role, daily_store, monkeypatch):
    at = run_as(role, REPO_ROOT / "app.py", daily_store, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.info[0].value == f"Local single-user mode — role {role}"
    assert [t.value for t in at.title] == ["Today"]


def test_a_forbidden_page_cannot_be_switched_to(daily_store, monkeypatch):
    at = run_as("benefits", REPO_ROOT / "app.py", daily_store, monkeypatch)
    with pytest.raises(Exception, match="at_risk"):
        at.switch_page("pages/at_risk.py").run()


def test_the_app_refuses_to_serve_local_mode_beyond_localhost(daily_store, monkeypatch):
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = run_as("admin", REPO_ROOT / "app.py", daily_store, monkeypatch)
    finally:
        config.set_option("server.address", before)
    assert "only serves localhost" in at.error[0].value
    # an error, not a calm stop: the script health check (the deploy files' probe) fails on it
    assert [e.value for e in at.exception] == [session.EXPOSED_NOTE.format(address="0.0.0.0")]
    assert not at.title


def test_triage_records_an_action_on_the_at_risk_list(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_as("triage", REPO_ROOT / "pages" / "at_risk.py", store_file, monkeypatch)
    assert at.selectbox(key="at_risk_order").options == ["O1", "O2", "O5"]  # O3 is held out
    at.selectbox(key="at_risk_order").select("O2").run()
    at.selectbox(key="at_risk_action").select("contacted_customer")
    at.text_input(key="at_risk_note").input("promised a call back")
    at.button(key="FormSubmitter:at_risk_form-Record action").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value == "Recorded: Contacted customer on O2 by local."
    assert at.dataframe[-1].value[["action", "note", "actor"]].values.tolist() == [
        ["Contacted customer", "promised a call back", "local"]
    ]
    assert worklist.read_actions("O2", TODAY, store_file)["action"].tolist() == ["contacted_customer"]


def test_a_click_from_a_role_that_lost_the_action_records_nothing(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_as("triage", REPO_ROOT / "pages" / "order_lookup.py", store_file, monkeypatch)
    at.sidebar.date_input(key="as_of_day").set_value(TODAY)
    at.text_input(key="lookup_order").input("O1").run()
    at.selectbox(key="lookup_action").select("expedited")
    # the role changes in configuration while the form is open: the click arrives, nothing is recorded
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "analyst")
    at.button(key="FormSubmitter:lookup_form-Record action").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.success
    assert worklist.read_actions("O1", TODAY, store_file)["actor"].tolist() == ["sim-triage"]
    assert at.button(key="FormSubmitter:lookup_form-Record action").disabled


def _forged_action_script() -> None:
    # What a crafted request to the page's action handler does, whatever the page shows.
    from datetime import date

    from ui import data, session, worklist

    worklist.submit_action(session.current_user(), "O1", date(2026, 3, 10), "expedited", "", data.current_store())


@pytest.mark.parametrize("role", ["benefits", "analyst"])
def test_a_forbidden_action_is_refused_on_the_server(role, store_file, monkeypatch):
    tiny_store(store_file)
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", role)
    at = AppTest.from_function(_forged_action_script, default_timeout=TIMEOUT_S).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error[0].value == f"local ({role}) may not record triage action; ask an admin for a role that may"
    assert worklist.read_actions("O1", TODAY, store_file)["actor"].tolist() == ["sim-triage"]
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "triage")
    at.run()
    assert at.success[0].value == "Recorded: Expedited on O1 by local."


def test_an_analyst_sees_the_action_form_disabled(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_as("analyst", REPO_ROOT / "pages" / "order_lookup.py", store_file, monkeypatch)
    at.sidebar.date_input(key="as_of_day").set_value(TODAY)
    at.text_input(key="lookup_order").input("O1").run()
    assert not at.exception
    assert at.button(key="FormSubmitter:lookup_form-Record action").disabled


def test_the_list_filters_and_moves_between_days(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_as("triage", REPO_ROOT / "pages" / "at_risk.py", store_file, monkeypatch)
    assert at.dataframe[0].value["order_id"].tolist() == ["O1", "O2", "O5"]
    at.multiselect(key="at_risk_carrier").select("budgetbox").run()
    assert at.dataframe[0].value["order_id"].tolist() == ["O2", "O5"]
    at.slider(key="at_risk_value").set_range(100.0, 301.0).run()
    assert at.dataframe[0].value["order_id"].tolist() == ["O5"]
    at.multiselect(key="at_risk_carrier").unselect("budgetbox").run()
    at.sidebar.date_input(key="as_of_day").set_value(YESTERDAY).run()  # a list with another top value
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="at_risk_value").value == (0.0, 121.0)
    assert at.dataframe[0].value["order_id"].tolist() == ["O4", "O1"]
    assert at.dataframe[0].value["last_action"].tolist() == [None, "Chased warehouse"]  # the action in words
