"""An alert about one column leads to the Drift page on that column and day (Today, Operations)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.monitor import alerts
from core.views import today
from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import NOW, TODAY, YESTERDAY, tiny_store, write_daily_tables

EARLIER = date(2026, 3, 1)


def test_an_alert_about_a_column_names_its_drift_cell():
    assert alerts.drift_cell("feature_drift", "carrier", "2026-03-10") == (TODAY, "carrier")
    assert alerts.drift_cell("prediction_drift", "p50_h", TODAY) == (TODAY, "p50_h")
    assert alerts.drift_cell("drift_share", "features", TODAY) is None  # a share of columns, not one
    assert alerts.drift_cell("stale_feed", "events", TODAY) is None


def test_every_column_rule_is_a_rule():
    assert alerts.COLUMN_RULES <= {rule.name for rule in alerts.DEFAULT_RULES}


@pytest.fixture
def alerted(store_file: Path) -> Path:
    """The tiny store of two mornings, with column alerts: one seen through today, one resolved before."""
    tiny_store(store_file)
    column_alerts = pd.DataFrame(
        {
            "alert_id": ["c1", "c2", "c3"],
            "as_of": [YESTERDAY, EARLIER, TODAY],
            "last_seen_on": [TODAY, EARLIER, TODAY],
            "rule": ["feature_drift", "new_category", "drift_share"],
            "severity": ["warning", "warning", "critical"],
            "subject": ["carrier", "region", "features"],
            "message": ["carrier drifted", "new regions", "3 of 9 features drifted"],
            "status": ["open", "open", "open"],
            "created_at": [NOW, NOW, NOW],
            "updated_at": [NOW, NOW, NOW],
        }
    )
    empty = pd.DataFrame()
    write_daily_tables(store_file, predictions=empty, lists=empty, summary=empty, alerts=column_alerts)
    return store_file


def test_the_column_alerts_of_a_day_are_those_seen_that_day(alerted):
    assert today.column_alerts(TODAY, alerted).to_dict("records") == [
        {"severity": "warning", "rule": "feature_drift", "column": "carrier", "message": "carrier drifted"}
    ]
    assert today.column_alerts(EARLIER, alerted)["column"].tolist() == ["region"]


def _links(at: AppTest) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [(link.proto.label, link.proto.page, parse_qs(link.proto.query_string)) for link in at.get("page_link")]


def test_today_links_its_column_alerts_to_the_drift_page(alerted, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_STORE", str(alerted))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Columns that alerted" in [s.value for s in at.subheader]
    assert _links(at) == [("Feature drift: Carrier (warning)", "drift", {"day": ["2026-03-10"], "column": ["carrier"]})]


def test_operations_links_the_chosen_column_alert(alerted, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_STORE", str(alerted))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/operations.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "carrier drifted" in at.selectbox(key="ack_alert").options
    at.selectbox(key="ack_alert").set_value("c1").run()
    assert _links(at) == [
        ("See Carrier on 09 Mar 2026 in Drift", "drift", {"day": ["2026-03-09"], "column": ["carrier"]})
    ]
    at.selectbox(key="ack_alert").set_value("c3").run()  # about a share of the features: no one column
    assert _links(at) == []
