"""Today's figures from a tiny store of two mornings, and the Today page showing exactly them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from streamlit.testing.v1 import AppTest

from core.domain import end_of_day
from core.views import today
from tests.conftest import REPO_ROOT
from tests.fixtures import write_events
from tests.fixtures_worklist import TODAY, YESTERDAY, tiny_store

PAGE = REPO_ROOT / "pages" / "today.py"


@pytest.fixture
def tiny(store_file):
    return tiny_store(store_file)


def test_run_days_newest_first(tiny):
    assert today.run_days(tiny) == [TODAY, YESTERDAY]


def test_the_latest_morning(tiny):
    figures = today.load_today(None, tiny)
    assert figures is not None
    assert (figures.as_of_date, figures.open_orders, figures.on_list, figures.held_out) == (TODAY, 4, 3, 1)
    assert figures.list_expected_cost == 150.0  # 90 + 40 + 20: the held-out order's 80 is not on the list
    assert (figures.alerts_raised, figures.critical_raised, figures.alerts_open) == (1, 1, 1)
    assert figures.last_event_at == datetime(2026, 3, 10, 18, 0)  # O5's 11 March event is after the day
    assert (figures.freshness_h, figures.events_last_day) == (6.0, 2)
    assert (figures.forecaster_version, figures.classifier_version, figures.eta_source) == ("fc-v2", "sc-v1", "model")
    # O4: forecast 20 h [10, 40] at the end of the 9th, delivered 12 h later: error 8 h, inside its interval
    assert (figures.matured_forecasts, figures.mae_h, figures.coverage_pct) == (1, 8.0, 100.0)
    assert (figures.open_orders_change, figures.on_list_change, figures.alerts_open_change) == (-1, 1, 1)
    assert (figures.new_on_list, figures.left_list, figures.champion_changed) == (2, 1, True)
    assert figures.actions == 0


def test_an_earlier_morning_has_no_day_before(tiny):
    figures = today.load_today(YESTERDAY, tiny)
    assert figures is not None
    assert (figures.open_orders, figures.on_list, figures.actions) == (5, 2, 1)
    assert (figures.open_orders_change, figures.on_list_change, figures.champion_changed) == (None, None, False)
    assert (figures.alerts_open, figures.matured_forecasts, figures.mae_h) == (0, 0, None)


def test_no_daily_run_yet(store_file):
    write_events(store_file, [("A", "placed", "2026-03-02 08:00")])
    assert today.run_days(store_file) == []
    assert today.load_today(None, store_file) is None


def test_end_of_day():
    assert end_of_day(date(2026, 3, 10)) == datetime(2026, 3, 11)


def test_the_page_shows_the_numbers_of_core(tiny, monkeypatch):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    figures = today.load_today(None, tiny)
    metrics = {m.label: m.value for m in at.metric[:6]}
    assert metrics == {
        "Orders open": str(figures.open_orders),
        "On the list": str(figures.on_list),
        "Alerts open": str(figures.alerts_open),
        "Data freshness": f"{figures.freshness_h:.1f} h",
        "Champion error": f"{figures.mae_h:.1f} h",
        "Interval coverage": f"{figures.coverage_pct:.0f}%",
    }
    assert [m.value for m in at.metric[6:]] == ["-1", "+1", "2", "1", "+1", "0"]
    assert at.markdown[0].value == "Champion: **fc-v2** (stuck classifier sc-v1) · customers see **model** ETAs."
    assert at.markdown[1].value.startswith("A new champion serves: **fc-v2**.  \n1 critical alert(s) raised")


def test_the_page_reads_an_earlier_morning(tiny):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.sidebar.date_input(key="as_of_day").set_value(YESTERDAY).run()
    assert not at.exception
    assert at.metric[0].value == "5"
    assert at.metric[6].value == "—"


def test_the_page_says_what_to_run_before_the_first_daily_run(store_file):
    write_events(store_file, [("A", "placed", "2026-03-02 08:00")])
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception
    assert len(at.title) == 1
    assert "python -m core demo" in at.info[0].value


def test_today_and_forecast_accuracy_show_the_same_figures(tiny):
    # One number for one figure: Today's champion error and coverage are Forecast accuracy's realised
    # figures over the same mornings, judged at the same instant.
    from datetime import timedelta

    from core.domain import end_of_day
    from core.monitor import accuracy

    figures = today.load_today(None, tiny)
    assert figures is not None
    overview = accuracy.accuracy_overview(
        tiny, as_of=end_of_day(TODAY), since=TODAY - timedelta(days=today.ACCURACY_WINDOW_DAYS - 1)
    )
    realised = overview["forecast"]["realised"]
    assert (figures.matured_forecasts, figures.mae_h, figures.coverage_pct) == (
        realised["forecasts"],
        realised["mae_h"],
        realised["coverage_80_pct"],
    )
