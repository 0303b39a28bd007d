"""The monitoring and model pages show core's numbers, stay calm without data, and refuse actions
the user's role does not allow (checked in the handler, not only by hiding a button)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import activity
from core.access.roles import PermissionDeniedError, User
from core.monitor import accuracy, assumptions, benefit_figures, benefits
from core.registry import promotion, versions
from core.views import insights
from tests import test_accuracy, test_benefits, test_registry
from tests.conftest import REPO_ROOT
from tests.fixtures import ORDER_WORLD_EVENTS, write_events
from ui import display
from ui import models as ui_models
from ui import monitoring as mon

PAGES = REPO_ROOT / "pages"
MY_PAGES = ("forecast_accuracy", "drift", "data_quality", "segments", "benefits", "models", "operations")
TIMEOUT_S = 90


def run_page(name: str, store: Path, monkeypatch: pytest.MonkeyPatch, role: str = "admin") -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", role)
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT_S).run()


def last_day(store: Path) -> date:
    span = insights.load_event_span(store)
    assert span is not None
    return span[1]


def test_forecast_accuracy_shows_the_numbers_of_core(store_file, monkeypatch):
    test_accuracy.build_store(store_file)
    at = run_page("forecast_accuracy", store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    overview = accuracy.accuracy_overview(store_file, as_of=last_day(store_file))
    forecast, triage = overview["forecast"]["realised"], overview["triage"]["realised"]
    shown = {m.label: m.value for m in at.metric}
    assert shown == {
        "MAE": mon.num(forecast["mae_h"], " h"),
        "Bias": mon.num(forecast["bias_h"], " h"),
        "Interval coverage": mon.pct(forecast["coverage_80_pct"]),
        "Too early": mon.pct(forecast["too_early_pct"]),
        "Too late": mon.pct(forecast["too_late_pct"]),
        "Cost per forecast": mon.num(forecast["cost_per_forecast_eur"], " €", 2),
        "Precision@k": mon.pct(triage["precision_at_k_pct"]),
        "Lead time": mon.num(triage["lead_time_h"], " h"),
    }
    # by hand (tests/test_accuracy.py): as of the end of 03-08, O1..O4 matured; errors 10, 5, 30 h and, for
    # the overdue O4, 168 − 10 = 158 h so far: MAE (10 + 5 + 30 + 158) / 4 = 50.75 h
    assert forecast["forecasts"] == 4 and shown["MAE"] == "50.7 h" and shown["Interval coverage"] == "50.0%"
    daily = at.dataframe[-1].value
    assert daily["listed"].sum() == 2  # both listings of the first morning


def test_forecast_accuracy_by_segment(store_file, monkeypatch):
    test_accuracy.build_store(store_file)
    at = run_page("forecast_accuracy", store_file, monkeypatch)
    at.sidebar.selectbox(key="accuracy_segment").set_value("carrier").run()
    by_carrier = at.dataframe[0].value
    scored = accuracy.load_forecast_outcomes(store_file, as_of=last_day(store_file))
    expected = accuracy.summarise_forecasts(scored, by=["carrier"])
    assert by_carrier["forecasts"].tolist() == expected["forecasts"].tolist()
    assert by_carrier["mae_h"].tolist() == expected["mae_h"].round(2).tolist()


def test_benefits_shows_the_numbers_of_core(store_file, monkeypatch):
    test_benefits.build_store(store_file)
    at = run_page("benefits", store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    day = last_day(store_file)
    ledger = benefits.benefit_ledger(store_file, as_of=day)
    holdout = benefits.holdout_comparison(store_file, as_of=day)
    live = ledger.loc[(ledger["period"] == "live") & (ledger["metric"] == "total_value_eur"), "value_eur"]
    triage = holdout.set_index(["iso_week", "metric"]).loc[("all", "triage_value_eur"), "value_eur"]
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    # one live week: the realised value is that week's total; one held-out order, so no interval yet
    assert shown == {
        "Go-live": ("10 Mar 2026", ""),
        "Live weeks": ("1", ""),
        "Realised value": (benefit_figures.eur(live.sum()), "no interval yet"),
        "Triage value": (benefit_figures.eur(triage), "no interval yet"),
    }
    grid = at.dataframe[0].value.set_index("metric")
    week = ledger.loc[ledger["period"] == "live", "iso_week"].iloc[0]
    expected = ledger.loc[ledger["iso_week"] == week].set_index("metric")["value"].round(2)
    money = list(benefit_figures.MONEY_METRICS)
    expected = expected.drop(money).dropna().rename(index=lambda m: display.show_value(m, of_words=True))
    assert grid[week].dropna().to_dict() == expected.to_dict()
    assert grid.index[0] == "Orders" and "Lead time (h)" in grid.index
    assert at.dataframe[1].value["shown"].tolist() == [
        "€55 (no interval yet)",
        f"{benefit_figures.eur(live.sum())} (no interval yet)",
    ]


def test_a_benefits_owner_edits_the_assumptions_with_history(store_file, monkeypatch):
    test_benefits.build_store(store_file)
    at = run_page("benefits", store_file, monkeypatch, role="benefits")
    at.number_input(key="cost_contact_cost").set_value(9.0)
    at.text_input(key="settings_reason").set_value("new call-centre contract")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert assumptions.load_assumptions(store_file).contact_cost == 9.0
    history = assumptions.assumption_history("costs", store_file)
    assert "new call-centre contract" in history["reason"].tolist()


def test_an_analyst_may_not_edit_the_assumptions(store_file, monkeypatch):
    test_benefits.build_store(store_file)
    at = run_page("benefits", store_file, monkeypatch, role="analyst")
    at.number_input(key="cost_contact_cost").set_value(9.0)
    at.text_input(key="settings_reason").set_value("sneaky")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["local (analyst) may not edit assumptions; ask an admin for a role that may"]
    assert assumptions.load_assumptions(store_file).contact_cost == 6.0


def test_handlers_refuse_the_wrong_role_before_touching_anything(store_file):
    triage = User("tess", "triage")
    with pytest.raises(PermissionDeniedError, match="tess \\(triage\\) may not retrain"):
        ui_models.start_retrain(triage, str(store_file))
    with pytest.raises(PermissionDeniedError, match="may not promote"):
        ui_models.promote(triage, "forecaster-v1", None, "why", str(store_file))
    with pytest.raises(PermissionDeniedError, match="may not rollback"):
        ui_models.rollback(triage, "forecaster", "why", str(store_file))
    with pytest.raises(PermissionDeniedError, match="may not acknowledge alert"):
        mon.acknowledge_alert(triage, "a1", str(store_file))
    with pytest.raises(PermissionDeniedError, match="may not edit assumptions"):
        mon.save_benefit_settings(triage, {}, {}, "why", str(store_file))
    assert not store_file.exists()


@pytest.mark.parametrize("page", ["models", "drift", "operations", "data_quality"])
def test_a_role_without_the_page_gets_a_calm_note(page, store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = run_page(page, store_file, monkeypatch, role="benefits")
    assert not at.exception
    assert [w.value for w in at.warning] == [mon.FORBIDDEN_NOTE.format(role="benefits")]
    assert len(at.title) == 1


@pytest.mark.parametrize("page", ["forecast_accuracy", "drift", "data_quality", "segments", "benefits"])
def test_pages_before_any_daily_run_say_what_to_run(page, store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = run_page(page, store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert any("python -m core demo" in i.value for i in at.info), [i.value for i in at.info]


@pytest.fixture
def registry_store(store_file: Path) -> Path:
    """Two tiny forecasters: v1 the champion, v2 a challenger with a lower holdout cost."""
    write_events(store_file, ORDER_WORLD_EVENTS)
    model, _ = test_registry.fit_tiny_forecaster()
    first = test_registry.register(store_file, model, cost=10.0)
    promotion.promote(first.version_id, actor="ana", reason="first", expected_champion=None, store_path=store_file)
    test_registry.register(store_file, model, cost=8.0)
    return store_file


def test_models_page_sets_champion_beside_challenger(registry_store, monkeypatch):
    at = run_page("models", registry_store, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    listed = at.dataframe[0].value
    assert listed["version"].tolist() == ["forecaster-v2", "forecaster-v1"]
    assert listed["champion"].tolist() == [False, True]
    assert at.button(key="retrain_button").label == "Retrain"
    assert [s.value for s in at.subheader] == [
        "Versions",
        "Champion vs challenger",
        "Promote or roll back",
        "Audit log",
    ]
    assert at.dataframe[1].value["version"].tolist() == ["forecaster-v1", "forecaster-v2"]
    # the challenger's record holds no champion figures on its rows: only its own are shown, never the
    # champion's figures from another holdout beside them (tests/test_models_view.py has the full case)
    gate = at.dataframe[2].value
    assert gate["model"].tolist() == ["forecaster-v2"]
    assert (gate["business_cost"].tolist(), gate["mae_h"].tolist()) == ([8.0], [4.0])
    assert at.dataframe[-1].value["reason"].tolist() == ["first"]


def test_promote_then_roll_back_with_a_reason(registry_store, monkeypatch):
    at = run_page("models", registry_store, monkeypatch, role="analyst")
    at.text_input(key="registry_reason").set_value("cheaper on the holdout")
    at.button[-1].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert versions.get_champion("forecaster", registry_store).version_id == "forecaster-v2"
    at.radio(key="registry_action_kind").set_value("roll back the champion")
    at.text_input(key="registry_reason").set_value("complaints from the north")
    at.button[-1].click().run()
    assert not at.exception and not at.error
    assert versions.get_champion("forecaster", registry_store).version_id == "forecaster-v1"
    audit = at.dataframe[-1].value
    assert audit[["action", "actor", "reason"]].values.tolist() == [
        ["rollback", "local", "complaints from the north"],
        ["promote", "local", "cheaper on the holdout"],
        ["promote", "ana", "first"],
    ]


def test_a_promotion_without_a_reason_is_refused_calmly(registry_store, monkeypatch):
    at = run_page("models", registry_store, monkeypatch)
    at.button[-1].click().run()
    assert not at.exception
    assert len(at.error) == 1 and "reason" in at.error[0].value
    assert versions.get_champion("forecaster", registry_store).version_id == "forecaster-v1"


def test_operations_acknowledges_an_alert(store_file, monkeypatch):
    from core.monitor import alert_store, alerts

    write_events(store_file, ORDER_WORLD_EVENTS)
    alert = alerts.Alert(
        as_of=date(2026, 3, 10),
        rule="stale_feed",
        severity="warning",
        subject="feed",
        message="no events for 30 h",
        value=30.0,
        threshold=24.0,
    )
    alert_store.store_alerts([alert], store_file)
    at = run_page("operations", store_file, monkeypatch, role="analyst")
    assert {m.label: m.value for m in at.metric}["Open alerts"] == "1"
    at.button(key="ack_button").click().run()
    assert not at.exception and not at.error
    assert alert_store.read_alerts(None, store_file, status="open").empty
    assert {m.label: m.value for m in at.metric}["Open alerts"] == "0"
    # the activity log keeps who acknowledged it (the local user here; a signed-in person's identity deployed)
    (alert_id,) = alert_store.read_alerts(None, store_file)["alert_id"]
    logged = activity.read_activity("acknowledge_alert", store_file)
    assert logged[["actor", "subject", "detail"]].values.tolist() == [["local", alert_id, "acknowledged"]]
