"""Triage actions: checked on the server (role, action, note, list) and one per double click."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.access import roles
from core.access.roles import PermissionDeniedError, User
from core.errors import ConfigError
from core.triage import actions, worklist
from tests.fixtures_worklist import TODAY, YESTERDAY, tiny_store

TRIAGE = User("ana", "triage")
AT = datetime(2026, 3, 11, 9, 30)


@pytest.fixture
def tiny(store_file):
    return tiny_store(store_file)


def test_an_action_is_kept_with_who_and_when(tiny):
    recorded = actions.record_action(TRIAGE, "O1", TODAY, "expedited", "  asked for next-day  ", tiny, now=AT)
    assert (recorded.action, recorded.note, recorded.actor, recorded.acted_at, recorded.created) == (
        "expedited",
        "asked for next-day",
        "ana",
        AT,
        True,
    )
    stored = worklist.read_actions("O1", TODAY, tiny)
    assert stored[["action", "note", "actor"]].values.tolist()[0] == ["expedited", "asked for next-day", "ana"]
    assert stored.loc[0, "acted_at"] == AT
    assert worklist.read_worklist(TODAY, None, tiny).set_index("order_id").loc["O1", "last_action"] == "expedited"


def test_a_double_click_records_one_action(tiny):
    first = actions.record_action(TRIAGE, "O2", TODAY, "contacted_customer", "", tiny, now=AT)
    second = actions.record_action(TRIAGE, "O2", TODAY, "contacted_customer", "", tiny, now=AT.replace(minute=31))
    assert (first.created, second.created) == (True, False)
    assert second.acted_at == AT  # the stored one
    assert len(worklist.read_actions("O2", TODAY, tiny)) == 1
    # a different action on the same order is a new one
    assert actions.record_action(TRIAGE, "O2", TODAY, "false_alarm", "", tiny).created
    assert len(worklist.read_actions("O2", TODAY, tiny)) == 2


@pytest.mark.parametrize("role", ["benefits", "analyst"])
def test_a_role_without_the_action_is_refused(tiny, role):
    with pytest.raises(PermissionDeniedError, match=f"may not record triage action.*{role}|{role}.*may not"):
        actions.record_action(User("bo", role), "O1", TODAY, "expedited", "", tiny)
    assert len(worklist.read_actions("O1", TODAY, tiny)) == 1  # only the simulated team's


def test_admin_may_record(tiny):
    assert actions.record_action(roles.User("root", "admin"), "O1", TODAY, "no_action", "", tiny).created


def test_an_unknown_action_is_refused(tiny):
    with pytest.raises(ConfigError, match="unknown triage action 'drop_table'; use one of contacted_customer"):
        actions.record_action(TRIAGE, "O1", TODAY, "drop_table", "", tiny)


def test_a_long_note_is_refused(tiny):
    with pytest.raises(ConfigError, match="the note has 501 characters; keep it to 500"):
        actions.record_action(TRIAGE, "O1", TODAY, "expedited", "x" * 501, tiny)
    assert actions.record_action(TRIAGE, "O1", TODAY, "expedited", "x" * 500, tiny).created


@pytest.mark.parametrize(("order_id", "day"), [("O3", TODAY), ("O4", TODAY), ("O5", YESTERDAY), ("nope", TODAY)])
def test_only_orders_on_the_shown_list_take_actions(tiny, order_id, day):
    # O3 is held out: an action on it would spoil the measured benefit
    with pytest.raises(ConfigError, match=f"order '{order_id}' is not on the list of {day.isoformat()}"):
        actions.record_action(TRIAGE, order_id, day, "expedited", "", tiny)


def test_the_id_is_stable():
    assert actions.action_id("O1", TODAY, "expedited", "", "ana") == actions.action_id(
        "O1", TODAY, "expedited", "", "ana"
    )
    assert actions.action_id("O1", TODAY, "expedited", "", "ana") != actions.action_id(
        "O1", TODAY, "expedited", "", "bo"
    )
