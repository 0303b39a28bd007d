"""The triage morning on the At-risk page (AppTest): places without holes, markers, the follow-up of
earlier actions, and previous / next through the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import YESTERDAY, tiny_store
from ui import display

PAGE = REPO_ROOT / "pages" / "at_risk.py"
TIMEOUT_S = 60


def run_triage(store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "triage")
    return AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_S).run()


def test_the_list_shows_places_markers_reason_and_eta(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_triage(store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    listed = at.dataframe[0].value
    assert listed["order_id"].tolist() == ["O1", "O2", "O5"]
    assert listed["place"].tolist() == [1, 2, 3]  # O3 (rank 2) is held out: no hole
    assert listed["marker"].tolist() == ["since Mon 09 Mar", "new", "new"]
    assert listed.loc[0, "reasons"] == "waiting in allocated 25 h (usual: 6 h)"
    assert at.caption[0].value == (
        "The list of Tuesday 10 March 2026, ranked by expected cost of delay: 3 of 3 orders match the filters; "
        "2 new since the previous morning. Click a row to open the order."
    )


def test_the_follow_up_says_what_became_of_yesterdays_actions(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_triage(store_file, monkeypatch)
    follow_up = at.dataframe[1].value
    assert follow_up[["order_id", "action", "actor", "outcome"]].values.tolist() == [
        ["O1", "Chased warehouse", "sim-triage", "no progress yet, still on the list"]
    ]
    assert at.caption[1].value == "0 of 1 orders acted on in the past week are fixed (delivered or moved on)."
    at.sidebar.date_input(key="as_of_day").set_value(YESTERDAY).run()
    assert [c.value for c in at.caption][1] == (
        "No action on the lists of the past week yet: their outcomes show here the next morning."
    )


def test_next_and_previous_walk_the_list(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_triage(store_file, monkeypatch)
    at.button(key="at_risk_next").click().run()
    assert at.selectbox(key="at_risk_order").value == "O1"
    assert at.markdown[0].value.startswith("**#1 of 3 · O1** · since Mon 09 Mar · allocated")
    at.button(key="at_risk_next").click().run()
    assert at.selectbox(key="at_risk_order").value == "O2"
    assert at.markdown[0].value.startswith("**#2 of 3 · O2** · new · payment hold")
    at.button(key="at_risk_next").click().run()
    at.button(key="at_risk_next").click().run()
    assert at.selectbox(key="at_risk_order").value == "O5"  # the last stays the last
    at.button(key="at_risk_prev").click().run()
    assert at.selectbox(key="at_risk_order").value == "O2"
    assert not at.exception


def test_every_table_leaves_missing_cells_blank_and_labels_every_column(store_file, monkeypatch):
    tiny_store(store_file)
    at = run_triage(store_file, monkeypatch)
    at.selectbox(key="at_risk_order").select("O1").run()
    for table in at.dataframe:
        assert table.proto.placeholder == ""
        for name in table.value.columns:
            assert not display.SNAKE.match(display.label_of(name)), name
