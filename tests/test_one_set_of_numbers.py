"""One number for one figure, as the pages show it (AppTest): Today's "Champion error" and "Interval
coverage" are the Forecast accuracy page's realised MAE and coverage for the same mornings, judged at
the same instant, and both are core's `accuracy.accuracy_overview` (the Models page's figures against
core are in tests/test_models_view.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import store
from core.domain import end_of_day
from core.monitor import accuracy
from core.views import today
from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import demo_daily_store
from ui import monitoring as mon

PAGES = REPO_ROOT / "pages"


@pytest.fixture(scope="module")
def daily_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_daily_store(tmp_path_factory)


def run_page(name: str, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_path))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=90).run()


def test_today_and_forecast_accuracy_pages_show_the_same_figures(daily_store, monkeypatch):
    day = today.run_days(daily_store)[0]
    mornings = store.fetch_df("today_days", {}, daily_store)
    # Forecast accuracy judges every morning of the store, Today the last ACCURACY_WINDOW_DAYS: on this
    # store those are the same mornings, so the two pages must show the same figures.
    assert len(mornings) <= today.ACCURACY_WINDOW_DAYS

    at_today = run_page("today", daily_store, monkeypatch)
    at_accuracy = run_page("forecast_accuracy", daily_store, monkeypatch)
    assert not at_today.exception and not at_accuracy.exception
    assert at_accuracy.sidebar.date_input(key="as_of_day").value == day  # both judged at the end of `day`
    shown_today = {m.label: m.value for m in at_today.metric}
    shown_accuracy = {m.label: m.value for m in at_accuracy.metric}

    realised = accuracy.accuracy_overview(
        daily_store, as_of=end_of_day(day), since=day - timedelta(days=today.ACCURACY_WINDOW_DAYS - 1)
    )
    figures = realised["forecast"]["realised"]
    assert figures["forecasts"] > 100  # a real window, not one lucky order
    assert shown_today["Champion error"] == f"{figures['mae_h']:.1f} h" == shown_accuracy["MAE"]
    assert shown_today["Interval coverage"] == f"{figures['coverage_80_pct']:.0f}%"
    assert shown_accuracy["Interval coverage"] == mon.pct(figures["coverage_80_pct"])
    # the same figure at the pages' precisions: 75.8% on one is 76% on the other
    assert shown_today["Interval coverage"] == f"{float(shown_accuracy['Interval coverage'][:-1]):.0f}%"


def test_forecast_accuracy_shows_realised_and_estimated_segments_in_separate_tables(daily_store, monkeypatch):
    at = run_page("forecast_accuracy", daily_store, monkeypatch)
    assert not at.exception
    labels = [m.value for m in at.markdown]
    assert "**Realised: orders delivered**" in labels and "**Estimated: orders not delivered yet**" in labels
    # no table mixes them: none carries the estimated flag as a column
    assert [list(f.value.columns) for f in at.dataframe if "estimated" in f.value.columns] == []
