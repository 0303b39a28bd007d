from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from core.errors import StoreMissingError
from core.views import insights
from tests.fixtures import ORDER_WORLD_EVENTS, TICKET_LOG_EVENTS, helpdesk_store, write_events

AS_OF = date(2026, 3, 10)
TICKETS_AS_OF = date(2026, 1, 10)
HAPPY_PATH = "placed → payment_confirmed → allocated → picked → packed → shipped → out_for_delivery → delivered"
HOLD_PATH = "placed → payment_hold → payment_confirmed → allocated → cancelled"


@pytest.fixture
def orders_store(store_file):
    return write_events(store_file, ORDER_WORLD_EVENTS)


@pytest.fixture
def tickets_store(store_file):
    return write_events(store_file, TICKET_LOG_EVENTS, source="helpdesk.xes.gz")


def test_window_bounds_cover_whole_days():
    assert insights.window_bounds(date(2026, 3, 2), AS_OF) == (datetime(2026, 3, 2), datetime(2026, 3, 11))
    assert insights.window_bounds(None, AS_OF) == (datetime(1970, 1, 1), datetime(2026, 3, 11))


def test_a_window_cannot_start_after_its_as_of_day():
    with pytest.raises(ValueError, match="starts on 2026-03-11, after its as-of day 2026-03-10"):
        insights.window_bounds(date(2026, 3, 11), AS_OF)


def test_reading_a_missing_store_says_how_to_build_one(tmp_path):
    with pytest.raises(StoreMissingError, match="python -m core demo"):
        insights.load_dwell_stats(None, AS_OF, tmp_path / "absent.duckdb")


def test_event_span_of_an_empty_store_is_none(store_file):
    write_events(store_file, [])
    assert insights.load_event_span(store_file) is None


def test_event_span(orders_store):
    assert insights.load_event_span(orders_store) == (date(2026, 3, 2), date(2026, 3, 10))


def test_end_stages_of_the_order_world_are_its_terminal_stages(orders_store):
    assert insights.load_end_stages(AS_OF, orders_store) == ["cancelled", "delivered"]
    # before the first delivery only the cancellation has been seen
    assert insights.load_end_stages(date(2026, 3, 4), orders_store) == ["cancelled"]


def test_end_stages_of_a_real_log_are_its_closing_activities(tickets_store):
    # "Closed" is always last; "Resolve ticket" is last only in the open ticket T3 (1 of 3)
    assert insights.load_end_stages(TICKETS_AS_OF, tickets_store) == ["Closed"]


def test_dwell_stats_per_stage_in_journey_order(orders_store):
    dwell_stats = insights.load_dwell_stats(None, AS_OF, orders_store)
    assert dwell_stats["stage"].tolist() == [
        "placed",
        "payment_confirmed",
        "allocated",
        "picked",
        "packed",
        "shipped",
        "out_for_delivery",
        "payment_hold",
    ]
    by_stage = dwell_stats.set_index("stage")
    # placed: A 2 h, B 0.5 h, C 1 h, D 12 h
    assert by_stage.loc["placed", ["dwells", "p25_h", "median_h", "p75_h", "mean_h", "total_h"]].tolist() == [
        4,
        0.875,
        1.5,
        4.5,
        3.875,
        15.5,
    ]
    assert by_stage.loc["placed", "p05_h"] == pytest.approx(0.575)
    assert by_stage.loc["placed", "p95_h"] == pytest.approx(10.5)
    # payment_confirmed: A 4 h, B 2.5 h, C 24 h, D 12 h
    assert by_stage.loc["payment_confirmed", ["dwells", "median_h", "total_h"]].tolist() == [4, 8.0, 42.5]
    # allocated: A 18 h, B 24 h; C and D are still there, so their dwell is not finished
    assert by_stage.loc["allocated", ["dwells", "median_h", "total_h"]].tolist() == [2, 21.0, 42.0]
    assert by_stage.loc["shipped", "median_h"] == 44.0
    assert by_stage.loc["payment_hold", "median_h"] == 24.0


def test_dwell_stats_respect_the_window(orders_store):
    dwell_stats = insights.load_dwell_stats(date(2026, 3, 9), AS_OF, orders_store)
    assert dwell_stats[["stage", "dwells", "median_h"]].to_dict("records") == [
        {"stage": "placed", "dwells": 1, "median_h": 12.0},
        {"stage": "payment_confirmed", "dwells": 1, "median_h": 12.0},
    ]


def test_dwell_stats_as_of_an_earlier_day_ignore_later_events(orders_store):
    # As of 3 March, A has been in shipped since 12:00 with no next event yet
    dwell_stats = insights.load_dwell_stats(None, date(2026, 3, 3), orders_store)
    assert "shipped" not in dwell_stats["stage"].tolist()
    assert dwell_stats.set_index("stage").loc["payment_confirmed", "dwells"] == 2  # A and B


def test_unknown_activities_are_ordered_by_their_position_in_a_case(tickets_store):
    dwell_stats = insights.load_dwell_stats(None, TICKETS_AS_OF, tickets_store)
    assert dwell_stats[["stage", "dwells", "median_h", "total_h"]].to_dict("records") == [
        {"stage": "Assign seriousness", "dwells": 3, "median_h": 1.0, "total_h": 4.5},
        {"stage": "Take in charge ticket", "dwells": 3, "median_h": 48.0, "total_h": 102.0},
        {"stage": "Wait", "dwells": 1, "median_h": 48.0, "total_h": 48.0},
        {"stage": "Resolve ticket", "dwells": 2, "median_h": 24.0, "total_h": 48.0},
    ]


def test_order_stages_puts_known_stages_first():
    dwell_stats = pd.DataFrame(
        {"stage": ["Z late", "A early", "packed", "placed"], "mean_position": [5.0, 1.0, 9.0, 9.0]}
    )
    assert insights.order_stages(dwell_stats) == ["placed", "packed", "A early", "Z late"]


def test_weekly_waiting_groups_dwells_by_iso_week_of_entry(orders_store):
    weekly = insights.load_weekly_waiting(None, AS_OF, orders_store)
    week_10 = weekly[weekly["iso_week"] == "2026-W10"].set_index("stage")
    assert week_10["total_h"].to_dict() == {
        "allocated": 42.0,
        "out_for_delivery": 6.0,
        "packed": 2.0,
        "payment_confirmed": 30.5,
        "payment_hold": 24.0,
        "picked": 2.0,
        "placed": 3.5,
        "shipped": 44.0,
    }
    assert week_10.loc["payment_confirmed", ["dwells", "median_h"]].tolist() == [3, 4.0]
    week_11 = weekly[weekly["iso_week"] == "2026-W11"]
    assert week_11[["stage", "total_h"]].to_dict("records") == [
        {"stage": "payment_confirmed", "total_h": 12.0},
        {"stage": "placed", "total_h": 12.0},
    ]
    assert set(weekly["week_start"].astype(str)) == {"2026-03-02", "2026-03-09"}


def test_the_bottleneck_is_the_stage_with_most_waiting_hours_in_the_week(orders_store):
    bottlenecks = insights.find_bottlenecks(insights.load_weekly_waiting(None, AS_OF, orders_store))
    assert bottlenecks[["iso_week", "stage", "total_h", "dwells"]].to_dict("records") == [
        {"iso_week": "2026-W10", "stage": "shipped", "total_h": 44.0, "dwells": 1},
        # a tie (12 h each) goes to the stage named first
        {"iso_week": "2026-W11", "stage": "payment_confirmed", "total_h": 12.0, "dwells": 1},
    ]
    assert bottlenecks["share_pct"].tolist() == pytest.approx([100 * 44 / 154, 50.0])


def test_no_waiting_no_bottleneck():
    empty = pd.DataFrame(columns=["week_start", "iso_week", "stage", "dwells", "median_h", "total_h"])
    assert insights.find_bottlenecks(empty).columns.tolist() == [
        "week_start",
        "iso_week",
        "stage",
        "total_h",
        "share_pct",
        "median_h",
        "dwells",
    ]
    assert insights.find_bottlenecks(empty).empty


def test_weeks_compared_to_the_usual_dwell(orders_store, monkeypatch):
    monkeypatch.setattr(insights, "MIN_DWELLS_FOR_COMPARISON", 2)
    weekly = insights.load_weekly_waiting(None, AS_OF, orders_store)
    dwell_stats = insights.load_dwell_stats(None, AS_OF, orders_store)
    compared = insights.compare_weeks_to_usual(weekly, dwell_stats).set_index(["iso_week", "stage"])
    # placed: 1 h median in W10 (3 dwells) against 1.5 h over the window
    assert compared.loc[("2026-W10", "placed"), ["median_h", "usual_median_h"]].tolist() == [1.0, 1.5]
    assert compared.loc[("2026-W10", "placed"), "vs_usual_ratio"] == pytest.approx(2 / 3)
    assert compared.loc[("2026-W10", "allocated"), "vs_usual_ratio"] == 1.0
    # one dwell is too few to compare
    assert pd.isna(compared.loc[("2026-W11", "placed"), "vs_usual_ratio"])
    assert compared["vs_usual_ratio"].notna().sum() == 3


def test_a_zero_usual_dwell_is_not_compared():
    weekly = pd.DataFrame(
        {
            "week_start": [date(2026, 1, 5)],
            "iso_week": ["2026-W02"],
            "stage": ["x"],
            "dwells": [9],
            "median_h": [0.0],
            "total_h": [0.0],
        }
    )
    dwell_stats = pd.DataFrame({"stage": ["x"], "median_h": [0.0]})
    assert insights.compare_weeks_to_usual(weekly, dwell_stats)["vs_usual_ratio"].isna().tolist() == [True]


def _wip_records(wip: pd.DataFrame) -> list[tuple[str, str, int]]:
    return [(str(r.day), r.stage, r.cases) for r in wip.itertuples()]


def test_wip_counts_open_cases_per_stage_at_the_end_of_each_day(orders_store):
    wip = insights.load_wip_by_day(None, AS_OF, orders_store)
    assert _wip_records(wip) == [
        ("2026-03-02", "allocated", 1),
        ("2026-03-02", "payment_hold", 1),
        ("2026-03-03", "allocated", 1),
        ("2026-03-03", "payment_confirmed", 1),
        ("2026-03-03", "shipped", 1),
        # B was cancelled: it has left the process
        ("2026-03-04", "allocated", 1),
        ("2026-03-04", "shipped", 1),
        # A was delivered; C stays in allocated
        ("2026-03-05", "allocated", 1),
        ("2026-03-06", "allocated", 1),
        ("2026-03-07", "allocated", 1),
        ("2026-03-08", "allocated", 1),
        ("2026-03-09", "allocated", 1),
        ("2026-03-09", "payment_confirmed", 1),
        ("2026-03-10", "allocated", 2),
    ]


def test_wip_as_of_an_earlier_day_keeps_a_case_in_its_latest_stage(orders_store):
    wip = insights.load_wip_by_day(date(2026, 3, 4), date(2026, 3, 4), orders_store)
    # A's later delivery is not known yet on 4 March
    assert _wip_records(wip) == [("2026-03-04", "allocated", 1), ("2026-03-04", "shipped", 1)]


def test_wip_of_a_real_log_releases_closed_tickets(tickets_store):
    wip = insights.load_wip_by_day(date(2026, 1, 8), TICKETS_AS_OF, tickets_store)
    assert _wip_records(wip) == [
        ("2026-01-08", "Resolve ticket", 1),
        ("2026-01-08", "Take in charge ticket", 1),
        ("2026-01-09", "Resolve ticket", 1),
        ("2026-01-10", "Resolve ticket", 1),
    ]


def test_wip_of_an_empty_store_is_empty(store_file):
    write_events(store_file, [])
    assert insights.load_wip_by_day(None, AS_OF, store_file).empty


def test_top_paths_of_ended_cases(orders_store):
    top_paths = insights.load_top_paths(None, AS_OF, orders_store)
    assert top_paths.to_dict("records") == [
        {
            "rank": 1,
            "path": HAPPY_PATH,
            "events": 8,
            "cases": 1,
            "share_pct": 50.0,
            "median_journey_days": 3.25,
            "distinct_paths": 2,
        },
        {
            "rank": 2,
            "path": HOLD_PATH,
            "events": 5,
            "cases": 1,
            "share_pct": 50.0,
            "median_journey_days": 2.125,
            "distinct_paths": 2,
        },
    ]
    top_1 = insights.load_top_paths(None, AS_OF, orders_store, top=1)
    assert top_1[["path", "distinct_paths"]].values.tolist() == [[HAPPY_PATH, 2]]


def test_top_paths_count_and_share_repeated_paths(store_file):
    events = [
        (case, stage, f"2026-01-0{day} {hour:02d}:00")
        for case, day in (("x1", 1), ("x2", 2), ("x3", 3))
        for hour, stage in ((9, "Open"), (10, "Fix"), (12 if case != "x3" else 15, "Closed"))
    ] + [("x4", "Open", "2026-01-04 09:00"), ("x4", "Closed", "2026-01-04 21:00")]
    write_events(store_file, events)
    top_paths = insights.load_top_paths(None, date(2026, 1, 4), store_file)
    assert top_paths[["path", "cases", "share_pct", "median_journey_days"]].to_dict("records") == [
        {"path": "Open → Fix → Closed", "cases": 3, "share_pct": 75.0, "median_journey_days": 0.125},
        {"path": "Open → Closed", "cases": 1, "share_pct": 25.0, "median_journey_days": 0.5},
    ]


def test_kpis_of_the_whole_history(orders_store):
    assert insights.load_kpis(None, AS_OF, orders_store) == {
        "active_cases": 4,
        "events": 19,
        "open_cases": 2,
        "ended_cases": 2,
        "median_journey_days": 2.6875,
        "p90_journey_days": pytest.approx(3.1375),
    }


def test_kpis_as_of_an_earlier_day(orders_store):
    kpis = insights.load_kpis(None, date(2026, 3, 4), orders_store)
    # A is still on its way (6 of its events are known); only B has ended
    assert (kpis["active_cases"], kpis["events"], kpis["open_cases"], kpis["ended_cases"]) == (3, 14, 2, 1)
    assert kpis["median_journey_days"] == 2.125


def test_kpis_of_a_window_without_ended_cases(orders_store):
    assert insights.load_kpis(date(2026, 3, 9), AS_OF, orders_store) == {
        "active_cases": 1,
        "events": 3,
        "open_cases": 2,
        "ended_cases": 0,
        "median_journey_days": None,
        "p90_journey_days": None,
    }


def test_kpis_of_a_real_log(tickets_store):
    kpis = insights.load_kpis(None, TICKETS_AS_OF, tickets_store)
    assert (kpis["active_cases"], kpis["open_cases"], kpis["ended_cases"]) == (3, 1, 2)
    # T1 3 d 3 h, T2 3 d 7 h
    assert kpis["median_journey_days"] == pytest.approx((75 + 79) / 2 / 24)


def test_the_real_helpdesk_log(tmp_path_factory):
    store = helpdesk_store(tmp_path_factory)
    as_of = date(2014, 1, 3)
    assert insights.load_event_span(store) == (date(2010, 1, 13), as_of)
    end_stages = insights.load_end_stages(as_of, store)
    assert end_stages == ["Closed"]
    kpis = insights.load_kpis(None, as_of, store, end_stages)
    # 4,580 tickets and 21,348 events (data/README.md); 23 never reach "Closed"
    assert (kpis["active_cases"], kpis["events"], kpis["ended_cases"], kpis["open_cases"]) == (4580, 21348, 4557, 23)
    assert kpis["median_journey_days"] == pytest.approx(39.78, abs=0.01)  # README: 39.9 over all cases
    top_paths = insights.load_top_paths(None, as_of, store, end_stages)
    assert top_paths.loc[0, "path"] == "Assign seriousness → Take in charge ticket → Resolve ticket → Closed"
    assert (top_paths.loc[0, "cases"], top_paths.loc[0, "distinct_paths"]) == (2366, 209)
    bottlenecks = insights.find_bottlenecks(insights.load_weekly_waiting(None, as_of, store))
    assert bottlenecks["stage"].value_counts().idxmax() == "Resolve ticket"


@pytest.mark.parametrize("events", ["orders", "tickets"])
def test_the_process_view_reads_what_each_function_reads(events, store_file):
    source = "helpdesk.xes.gz" if events == "tickets" else "test"
    path = write_events(store_file, TICKET_LOG_EVENTS if events == "tickets" else ORDER_WORLD_EVENTS, source=source)
    first, as_of = insights.load_event_span(path)
    view = insights.load_process_view(first, as_of, path)
    end_stages = insights.load_end_stages(as_of, path)
    assert view["end_stages"] == end_stages
    assert view["kpis"] == insights.load_kpis(first, as_of, path)
    pd.testing.assert_frame_equal(view["dwell_stats"], insights.load_dwell_stats(first, as_of, path))
    pd.testing.assert_frame_equal(view["weekly_waiting"], insights.load_weekly_waiting(first, as_of, path))
    pd.testing.assert_frame_equal(view["wip"], insights.load_wip_by_day(first, as_of, path))
    pd.testing.assert_frame_equal(view["top_paths"], insights.load_top_paths(first, as_of, path))
    assert view["distinct_paths"] == int(view["top_paths"]["distinct_paths"].max())
    assert view["stage_order"] == view["dwell_stats"]["stage"].tolist()
