"""Benefit money as it is shown: each figure with its bootstrap 95% interval and a significance word
(core.monitor.benefit_figures), the same on the Benefits page, in the weekly report and in `benefits --json`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.domain import CostAssumptions
from core.monitor import benefit_figures, benefits, triage_effect
from core.monitor.benefit_figures import NO_INTERVAL, NOT_SIGNIFICANT, SIGNIFICANT
from core.report import contents, tables
from tests import test_benefits
from tests.conftest import REPO_ROOT
from tests.test_accuracy import event_rows, insert
from tests.test_benefits import LIST_MORNING, happy, order
from ui import display


def test_the_word_says_whether_the_interval_excludes_zero():
    assert benefit_figures.significance(-738.0, 9615.0) == NOT_SIGNIFICANT
    assert benefit_figures.significance(10.0, 20.0) == SIGNIFICANT
    assert benefit_figures.significance(-20.0, -10.0) == SIGNIFICANT
    assert benefit_figures.significance(0.0, 20.0) == NOT_SIGNIFICANT  # 0 is inside a closed interval
    assert benefit_figures.significance(float("nan"), 5.0) == NO_INTERVAL
    assert benefit_figures.significance(None, pd.NA) == NO_INTERVAL


def test_a_figure_is_shown_with_its_interval_and_word():
    # the example: a triage value whose interval holds 0
    triage = benefit_figures.money_figure("triage_value_eur", 4381.4, -738.2, 9615.0)
    assert triage.text == "€4,381 (95% CI −€738 to €9,615, not significant)"
    assert triage.to_dict() == {
        "name": "triage_value_eur",
        "value_eur": 4381.4,
        "ci_low_eur": -738.2,
        "ci_high_eur": 9615.0,
        "significance": NOT_SIGNIFICANT,
        "text": "€4,381 (95% CI −€738 to €9,615, not significant)",
    }
    assert benefit_figures.money_figure("x", 55.0, np.nan, np.nan).text == "€55 (no interval yet)"
    assert benefit_figures.money_figure("x", np.nan, np.nan, np.nan).text == "—"


def ledger_rows() -> pd.DataFrame:
    """Two live weeks and a baseline week of money (what build_ledger returns, the columns used here)."""
    rows = []
    for week, period, money in (
        ("2026-W10", "baseline", {}),
        ("2026-W11", "live", {"contacts_per_1000_orders": -15.0, "sla_breach_pct": 7.5, "extra_promised_days": 0.0}),
        ("2026-W12", "live", {"contacts_per_1000_orders": 20.0, "sla_breach_pct": np.nan, "extra_promised_days": 1.0}),
    ):
        for metric in benefits.LEDGER_METRICS:
            rows.append(
                {
                    "iso_week": week,
                    "period": period,
                    "metric": metric,
                    "value_eur": money.get(metric, np.nan),
                    "value_ci_low_eur": np.nan,
                    "value_ci_high_eur": np.nan,
                }
            )
    frame = pd.DataFrame(rows)
    money = (frame["period"] == "live") & (frame["metric"] == "triage_value_eur")
    frame.loc[money, ["value_eur", "value_ci_low_eur", "value_ci_high_eur"]] = [[55.0, 10.0, 90.0], [-5.0, -40.0, 30.0]]
    total = (frame["period"] == "live") & (frame["metric"] == "total_value_eur")
    frame.loc[total, ["value_eur", "value_ci_low_eur", "value_ci_high_eur"]] = [[47.5, 2.5, 82.5], [16.0, -19.0, 51.0]]
    return frame


def holdout_all(value: float, low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "iso_week": "all",
                "metric": "triage_value_eur",
                "value_eur": value,
                "value_ci_low_eur": low,
                "value_ci_high_eur": high,
            }
        ]
    )


def test_headline_money_adds_the_baseline_part_to_the_triage_value_and_its_interval():
    money = benefit_figures.headline_figures(ledger_rows(), holdout_all(50.0, -20.0, 120.0))
    triage, realised = money["triage_value_eur"], money["realised_value_eur"]
    assert (triage.value_eur, triage.ci_low_eur, triage.ci_high_eur) == (50.0, -20.0, 120.0)
    # baseline money of the live weeks: -15 + 7.5 + 0 + 20 + 1 = 13.5 (the NaN part left out)
    assert (realised.value_eur, realised.ci_low_eur, realised.ci_high_eur) == (63.5, -6.5, 133.5)
    assert realised.text == "€64 (95% CI −€6 to €134, not significant)"  # 63.5 rounds half to even
    nothing = benefit_figures.headline_figures(ledger_rows(), holdout_all(np.nan, np.nan, np.nan))
    assert nothing["realised_value_eur"].text == "€14 (no interval yet)"
    empty = benefit_figures.headline_figures(ledger_rows().iloc[0:0], holdout_all(1.0, 0.5, 2.0).iloc[0:0])
    assert empty["realised_value_eur"].text == empty["triage_value_eur"].text == "—"


def test_money_by_week_carries_each_week_s_interval_and_word():
    weekly = benefit_figures.weekly_money(ledger_rows())
    assert weekly[["iso_week", "metric", "shown"]].values.tolist() == [
        ["2026-W11", "triage_value_eur", "€55 (95% CI €10 to €90, significant)"],
        ["2026-W11", "total_value_eur", "€48 (95% CI €2 to €82, significant)"],
        ["2026-W12", "triage_value_eur", "−€5 (95% CI −€40 to €30, not significant)"],
        ["2026-W12", "total_value_eur", "€16 (95% CI −€19 to €51, not significant)"],
    ]


def test_the_interval_is_the_bootstrap_of_the_holdout_comparison():
    # every treated order unstuck, every held-out one stuck: each resample gives the same difference, so
    # the interval closes on the value, 40 EUR missed-stuck cost × 3 treated orders = 120 EUR
    listed = pd.DataFrame(
        {
            "order_id": ["t1", "t2", "t3", "h1", "h2"],
            "week_start": pd.Timestamp("2026-03-09"),
            "held_out": [False, False, False, True, True],
            "stuck": [0.0, 0.0, 0.0, 1.0, 1.0],
            "contacts": 0.0,
            "sla_breach": 0.0,
            "late_h": 0.0,
        }
    )
    holdout = triage_effect.compare_holdout(listed, CostAssumptions(), n_boot=200, by_week=False)
    triage = benefit_figures.headline_figures(pd.DataFrame(columns=["period", "metric", "value_eur"]), holdout)
    assert triage["triage_value_eur"].text == "€120 (95% CI €120 to €120, significant)"
    # the same arms mixed: half stuck on both sides, the interval holds 0
    mixed = listed.assign(stuck=[0.0, 1.0, 0.0, 1.0, 0.0])
    holdout = triage_effect.compare_holdout(mixed, CostAssumptions(), n_boot=200, by_week=False)
    figure = benefit_figures.headline_figures(pd.DataFrame(columns=["period", "metric", "value_eur"]), holdout)
    low, high = figure["triage_value_eur"].ci_low_eur, figure["triage_value_eur"].ci_high_eur
    assert low is not None and high is not None and low < 0 < high
    assert figure["triage_value_eur"].significance == NOT_SIGNIFICANT


def build_store_with_interval(path: Path) -> Path:
    """The benefits store plus L4 (held out, stuck in allocated) and L5 (shown, delivered), listed on 03-10:
    two held-out orders, so the triage value has a bootstrap interval."""
    test_benefits.build_store(path)
    insert(
        path,
        "orders",
        [order("L4", "2026-03-09 06:00", "2026-03-12 00:00"), order("L5", "2026-03-09 07:00", "2026-03-13 00:00")],
    )
    insert(
        path,
        "events",
        event_rows(
            {
                "L4": happy("2026-03-09 06:00", "2026-03-09 07:00", "2026-03-09 08:00"),
                "L5": happy(
                    "2026-03-09 07:00",
                    "2026-03-09 08:00",
                    "2026-03-09 10:00",
                    "2026-03-10 08:00",
                    "2026-03-10 10:00",
                    "2026-03-10 12:00",
                    "2026-03-11 20:00",
                    "2026-03-12 00:00",
                ),
            }
        ),
    )
    insert(
        path,
        "predictions",
        [
            {
                "as_of_date": LIST_MORNING.date(),
                "as_of_at": LIST_MORNING,
                "order_id": o,
                "role": "champion",
                "p10_h": 10.0,
                "p50_h": 20.0,
                "p90_h": 40.0,
                "stuck_prob": 0.5,
                "scored_at": LIST_MORNING,
            }
            for o in ("L4", "L5")
        ],
    )
    insert(
        path,
        "triage_list",
        [
            {
                "as_of_date": LIST_MORNING.date(),
                "order_id": o,
                "rank": r,
                "expected_cost": 20.0,
                "stuck_prob": 0.5,
                "held_out": o == "L4",
                "created_at": LIST_MORNING,
            }
            for r, o in ((4, "L4"), (5, "L5"))
        ],
    )
    return path


def test_page_json_and_report_show_the_same_money_with_the_same_interval(store_file: Path, monkeypatch):
    build_store_with_interval(store_file)
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_file))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "benefits.py"), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    day = at.sidebar.date_input(key="as_of_day").value
    report = benefits.benefits_report(store_file, as_of=day)  # what `benefits --json` prints for that day
    tiles = {m.label: (m.value, m.delta) for m in at.metric}
    for label, name in (("Realised value", "realised_value_eur"), ("Triage value", "triage_value_eur")):
        figure = report["headline"][name]  # type: ignore[index]
        assert figure["ci_low_eur"] is not None and not math.isnan(figure["ci_low_eur"])
        expected = benefit_figures.money_figure(name, figure["value_eur"], figure["ci_low_eur"], figure["ci_high_eur"])
        assert tiles[label] == (benefit_figures.eur(figure["value_eur"]), expected.detail)
        assert expected.detail.startswith("95% CI ")
        assert figure["text"] == expected.text
    weekly = at.dataframe[1].value  # the money by week, after the ledger grid
    assert weekly["shown"].tolist() == [row["shown"] for row in report["money_by_week"]]  # type: ignore[union-attr]
    assert "€" in weekly["shown"].iloc[0] and "95% CI" in weekly["shown"].iloc[0]
    money_words = {display.show_value(m, of_words=True) for m in benefit_figures.MONEY_METRICS}
    assert set(at.dataframe[0].value["metric"]).isdisjoint(money_words)  # no bare money
    assert (
        at.markdown[0].value
        == f"**{benefit_figures.headline_sentence(benefits.benefit_ledger(store_file, as_of=day))}**"
    )

    week = contents.parse_week("2026-W11")
    built = tables.build_weekly_report(week, store_file, n_boot=1000)
    figures = {k.removeprefix("benefits."): v for k, v in built.figures.items() if k.startswith("benefits.")}
    as_json = benefits.benefits_report(store_file, as_of=built.as_of)
    by_metric = {row["metric"]: row for row in as_json["money_by_week"] if row["iso_week"] == "2026-W11"}  # type: ignore[union-attr]
    for metric in benefit_figures.MONEY_METRICS:
        row = by_metric[metric]
        assert figures[metric] == pytest.approx(row["value_eur"])
        assert figures[f"{metric}_ci_low"] == pytest.approx(row["ci_low_eur"])
        assert figures[f"{metric}_ci_high"] == pytest.approx(row["ci_high_eur"])
        assert figures[f"{metric}_significance"] == row["significance"]


def test_the_headline_sentence_names_the_latest_week_its_interval_and_word():
    rows = ledger_rows()
    assert (
        benefit_figures.headline_sentence(rows)
        == "The list saved between −€40 and €30 in week 2026-W12; not yet significant."
    )
    first_week = rows.loc[rows["iso_week"] != "2026-W12"]
    assert (
        benefit_figures.headline_sentence(first_week)
        == "The list saved between €10 and €90 in week 2026-W11; significant."
    )
    no_interval = rows.copy()
    no_interval.loc[no_interval["metric"] == "triage_value_eur", ["value_ci_low_eur", "value_ci_high_eur"]] = np.nan
    assert benefit_figures.headline_sentence(no_interval) == (
        "The list saved −€5 in week 2026-W12; no interval yet (too few held-out orders)."
    )
    assert benefit_figures.headline_sentence(rows.iloc[0:0]) == (
        "No live week with held-out orders yet: what the list saves shows here from its first week."
    )
