"""The work list: a morning's shown list with filters (held-out never), journey, order view, history."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from core.triage import worklist
from tests.fixtures_worklist import TODAY, YESTERDAY, tiny_store


@pytest.fixture
def tiny(store_file):
    return tiny_store(store_file)


def test_list_days(tiny):
    assert worklist.list_days(tiny) == [TODAY, YESTERDAY]


def test_the_list_is_ranked_by_expected_cost_and_never_holds_held_out_orders(tiny):
    listed = worklist.read_worklist(TODAY, None, tiny)
    assert listed["order_id"].tolist() == ["O1", "O2", "O5"]  # O3 is held out
    assert listed["expected_cost"].tolist() == [90.0, 40.0, 20.0]
    assert listed["stage"].tolist() == ["allocated", "payment_hold", "payment_confirmed"]
    assert listed.loc[0, "reasons"] == "waiting in allocated 25 h (usual: 6 h)"
    assert listed.loc[0, "eta_p10_at"] == pd.Timestamp("2026-03-11 20:00")
    assert listed["actions"].tolist() == [0, 0, 0]


def test_the_last_action_of_the_morning(tiny):
    listed = worklist.read_worklist(YESTERDAY, None, tiny)
    assert listed["order_id"].tolist() == ["O4", "O1"]
    assert listed["last_action"].tolist() == [None, "chased_warehouse"]
    assert listed["last_action_by"].tolist() == [None, "sim-triage"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (worklist.ListFilters(stages=("payment_hold", "allocated")), ["O1", "O2"]),
        (worklist.ListFilters(carriers=("budgetbox",)), ["O2", "O5"]),
        (worklist.ListFilters(regions=("north",)), ["O1", "O5"]),  # O3 is north too, but held out
        (worklist.ListFilters(channels=("app",), regions=("north",)), ["O5"]),
        (worklist.ListFilters(min_value=100.0), ["O1", "O5"]),
        (worklist.ListFilters(max_value=120.0), ["O1", "O2"]),
        (worklist.ListFilters(min_value=50.0, max_value=200.0), ["O1"]),
        (worklist.ListFilters(carriers=("nobody",)), []),
    ],
)
def test_filters(tiny, filters, expected):
    assert worklist.read_worklist(TODAY, filters, tiny)["order_id"].tolist() == expected


def test_filter_options_come_from_the_shown_list(tiny):
    options = worklist.filter_options(worklist.read_worklist(TODAY, None, tiny))
    assert options == {
        "stage": ["allocated", "payment_confirmed", "payment_hold"],
        "carrier": ["budgetbox", "fastship"],
        "region": ["north", "south"],
        "channel": ["app", "web"],
    }


def test_held_out_orders_are_not_listed(tiny):
    assert worklist.is_listed("O1", TODAY, tiny)
    assert not worklist.is_listed("O3", TODAY, tiny)  # held out
    assert not worklist.is_listed("O4", TODAY, tiny)  # listed only the day before
    assert not worklist.is_listed("nope", TODAY, tiny)


def test_the_journey_stops_at_the_end_of_the_as_of_day(tiny):
    journey = worklist.read_journey("O5", TODAY, tiny)
    assert journey["stage"].tolist() == ["placed", "payment_confirmed"]
    assert journey["hours_in_stage_h"].tolist() == [34.0, 6.0]  # the open stage runs to midnight
    assert journey["is_current"].tolist() == [False, True]
    assert worklist.read_journey("O5", date(2026, 3, 8), tiny).empty


def test_the_order_as_of_a_day(tiny):
    order = worklist.read_order("O1", TODAY, tiny)
    assert order is not None
    assert (order["carrier"], order["order_value"], order["eta_source"]) == ("fastship", 120.0, "model")
    assert order["eta_shown_at"] == pd.Timestamp("2026-03-12 16:00")
    assert order["eta_p50_at"] == pd.Timestamp("2026-03-12 16:00")
    earlier = worklist.read_order("O1", YESTERDAY, tiny)
    assert (earlier["eta_shown_at"], earlier["eta_source"]) == (pd.Timestamp("2026-03-12 18:00"), "static")
    assert earlier["eta_p50_at"] == pd.Timestamp("2026-03-12 02:00")  # 50 h after the 9th's end
    assert worklist.read_order("nope", TODAY, tiny) is None


def test_forecast_history_morning_by_morning(tiny):
    history = worklist.read_forecast_history("O1", TODAY, tiny)
    assert [d.date() for d in history["as_of_date"]] == [YESTERDAY, TODAY]
    assert history["p50_h"].tolist() == [50.0, 40.0]
    assert history["forecaster_version"].tolist() == ["fc-v1", "fc-v2"]
    assert len(worklist.read_forecast_history("O1", YESTERDAY, tiny)) == 1


def test_actions_of_an_order(tiny):
    recorded = worklist.read_actions("O1", TODAY, tiny)
    assert recorded[["action", "actor"]].values.tolist() == [["chased_warehouse", "sim-triage"]]
    assert recorded.loc[0, "acted_at"] == datetime(2026, 3, 10, 9, 0)


@pytest.mark.parametrize(
    ("reasons", "text"),
    [
        ('[{"text": "a"}, {"feature": "b"}]', "a; b"),
        ([{"text": "a"}], "a"),
        (None, ""),
        (float("nan"), ""),
        ("[]", ""),
    ],
)
def test_reasons_text(reasons, text):
    assert worklist.reasons_text(reasons) == text
