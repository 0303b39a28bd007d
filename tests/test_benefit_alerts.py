"""The daily run feeds the benefit_under_target rule: the last complete live week's money figures
against their weekly targets open an alert item, and the item resolves itself when the condition clears."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from core import store
from core.jobs import daily
from core.monitor import alert_store, assumptions
from tests import test_benefits


def open_items(store_file: Path) -> set[tuple[str, str]]:
    items = alert_store.read_alerts(None, store_file, status="open")
    return set(zip(items["rule"], items["subject"], strict=True))


def raised_on(day: date, store_file: Path) -> set[tuple[str, str]]:
    """What the day's run evaluated (its alert_days rows): the conditions that hold at its end."""
    with store.connect(store_file, read_only=True) as con:
        rows = con.execute("select rule, subject from alert_days where as_of = $day", {"day": day}).fetchall()
    return {(rule, subject) for rule, subject in rows}


def test_benefit_under_target_opens_in_the_daily_run_and_resolves_when_it_clears(store_file: Path):
    # W10 is the baseline, W11 (03-09..03-15) the live week: triage value 55 EUR, total 47.5 EUR
    # (tests/test_benefits.py), against the default weekly targets of 500 and 1,000 EUR
    test_benefits.build_store(store_file)
    daily.run_daily(date(2026, 3, 14), store_file, retrain=False)  # W11 has not ended: not judged yet
    assert not any(rule == "benefit_under_target" for rule, _ in open_items(store_file))
    assert open_items(store_file) == raised_on(date(2026, 3, 14), store_file) == {("stale_feed", "events")}

    daily.run_daily(date(2026, 3, 15), store_file, retrain=False)
    items = alert_store.read_alerts(None, store_file, status="open").query("rule == 'benefit_under_target'")
    assert dict(zip(items["subject"], items["message"], strict=True)) == {
        "triage_value_eur": "triage_value_eur realised 55 EUR in 2026-W11 against a target of 500 EUR (11.0%), "
        "below the 90.0% threshold",
        "total_value_eur": "total_value_eur realised 48 EUR in 2026-W11 against a target of 1,000 EUR (4.8%), "
        "below the 90.0% threshold",
    }
    assert sorted(items["value"].round(4)) == [0.0475, 0.11]
    # at the end of the run the open items are exactly the conditions that still hold
    assert open_items(store_file) == raised_on(date(2026, 3, 15), store_file)
    assert open_items(store_file) == {
        ("stale_feed", "events"),
        ("benefit_under_target", "triage_value_eur"),
        ("benefit_under_target", "total_value_eur"),
    }

    # the owner sets targets the week met: the next run no longer raises it and the items resolve
    assumptions.save_targets(
        {"triage_value_eur": 50.0, "total_value_eur": 40.0}, actor="owner", reason="test", store_path=store_file
    )
    daily.run_daily(date(2026, 3, 16), store_file, retrain=False)
    items = alert_store.read_alerts(None, store_file).query("rule == 'benefit_under_target'")
    assert set(items["status"]) == {"resolved"}
    assert set(items["resolved_on"].dt.date) == {date(2026, 3, 16)}
    assert open_items(store_file) == raised_on(date(2026, 3, 16), store_file) == {("stale_feed", "events")}
