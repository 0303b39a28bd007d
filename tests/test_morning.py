"""The triage morning: places without holes, "new" / "since …" markers from the stored lists, and what
became of the orders the team acted on (read from their later events)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from core import store
from core.triage import morning, worklist
from tests.fixtures_worklist import TODAY, YESTERDAY, tiny_store


@pytest.fixture
def tiny(store_file):
    return tiny_store(store_file)


def add_action(path, order_id: str, list_day: date, action: str, actor: str = "ana") -> None:
    frame = pd.DataFrame(
        {
            "action_id": [f"t-{order_id}-{list_day}"],
            "order_id": [order_id],
            "as_of_date": [list_day],
            "action": [action],
            "note": [None],
            "actor": [actor],
            "acted_at": [datetime(2026, 12, 4, 9, 0)],  # the wall clock: long after the simulated days
        }
    )
    with store.transaction(path) as con:
        con.register("new_rows", frame)
        con.execute("insert into triage_actions by name select * from new_rows")
        con.unregister("new_rows")


def test_places_have_no_holes_where_held_out_orders_sit(tiny):
    listed = worklist.read_worklist(TODAY, None, tiny)
    assert listed["rank"].tolist() == [1, 3, 4]  # O3, rank 2, is held out
    assert morning.positions(listed).tolist() == [1, 2, 3]


def test_markers_say_new_or_since_when(tiny):
    marks = morning.list_markers(TODAY, worklist.list_days(tiny), tiny)
    assert marks.to_dict("list") == {
        "order_id": ["O1", "O2", "O5"],  # never the held-out O3
        "on_list_since": [YESTERDAY, TODAY, TODAY],
        "days_on_list": [2, 1, 1],
        "new": [False, True, True],
        "marker": ["since Mon 09 Mar", "new", "new"],
    }


def test_markers_of_the_first_morning_are_all_new(tiny):
    marks = morning.list_markers(YESTERDAY, worklist.list_days(tiny), tiny)
    assert marks[["order_id", "marker"]].values.tolist() == [["O1", "new"], ["O4", "new"]]


def test_a_streak_ends_at_the_first_morning_off_the_list():
    days = [date(2026, 3, d) for d in (1, 2, 3, 4)]
    history = pd.DataFrame(
        [(date(2026, 3, d), o) for d, o in [(1, "A"), (2, "A"), (3, "A"), (4, "A"), (1, "B"), (3, "B"), (4, "B")]],
        columns=["as_of_date", "order_id"],
    )
    assert morning.streak_starts(history, days, date(2026, 3, 4)) == {"A": date(2026, 3, 1), "B": date(2026, 3, 3)}
    assert morning.streak_starts(history, days, date(2026, 3, 2)) == {"A": date(2026, 3, 1)}


def test_the_follow_up_reads_what_the_order_did_after_its_list(tiny):
    add_action(tiny, "O4", YESTERDAY, "chased_carrier")
    outcomes = morning.action_outcomes(TODAY, tiny)
    assert outcomes[["order_id", "list_date", "action", "actor"]].values.tolist() == [
        ["O4", pd.Timestamp(YESTERDAY), "chased_carrier", "ana"],  # acted on the wall clock: newest
        ["O1", pd.Timestamp(YESTERDAY), "chased_warehouse", "sim-triage"],
    ]
    assert outcomes["later_events"].tolist() == [1, 0]
    assert outcomes["latest_stage"].tolist() == ["delivered", None]
    assert outcomes["listed_again"].tolist() == [False, True]
    assert outcomes["outcome"].tolist() == ["fixed: delivered", "no progress yet, still on the list"]
    assert outcomes["fixed"].tolist() == [True, False]


def test_todays_actions_are_not_followed_up_until_the_next_morning(tiny):
    add_action(tiny, "O2", TODAY, "chased_carrier")
    assert morning.action_outcomes(TODAY, tiny)["order_id"].tolist() == ["O1"]
    assert morning.action_outcomes(YESTERDAY, tiny).empty


@pytest.mark.parametrize(
    ("later_events", "stage", "again", "text"),
    [
        (2, "delivered", False, "fixed: delivered"),
        (1, "cancelled", False, "cancelled"),
        (1, "out_for_delivery", False, "fixed: moved on to out for delivery"),
        (1, "packed", True, "moved on to packed, still on the list"),
        (0, None, True, "no progress yet, still on the list"),
        (0, None, False, "no progress yet"),
    ],
)
def test_outcome_words(later_events, stage, again, text):
    assert morning.outcome_text(later_events, stage, again) == text
