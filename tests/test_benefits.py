from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import store
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.monitor import assumptions, benefits, triage_effect
from core.monitor.assumptions import BenefitTargets
from tests.test_accuracy import event_rows, insert

AS_OF = datetime(2026, 3, 15, 0, 0)
LIST_MORNING = datetime(2026, 3, 10, 0, 0)
W10, W11 = pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def order(order_id: str, placed: str, promised: str) -> dict:
    return {
        "order_id": order_id,
        "placed_at": ts(placed),
        "promised_at": ts(promised),
        "carrier": "c1",
        "source": "test",
        "loaded_at": AS_OF,
    }


def contact(contact_id: str, order_id: str, when: str) -> dict:
    return {
        "contact_id": contact_id,
        "order_id": order_id,
        "contact_at": ts(when),
        "reason": "where_is_my_order",
        "source": "test",
        "loaded_at": AS_OF,
    }


def happy(placed: str, *stamps: str) -> list[tuple[str, datetime]]:
    stages = (
        "placed",
        "payment_confirmed",
        "allocated",
        "picked",
        "packed",
        "shipped",
        "out_for_delivery",
        "delivered",
    )
    return list(zip(stages, [ts(s) for s in (placed, *stamps)], strict=False))


def build_store(path: Path) -> Path:
    """Baseline week W10 (B1, B2) and live week W11 (L1, L2, L3 listed on 03-10; L2 held out)."""
    insert(
        path,
        "orders",
        [
            order("B1", "2026-03-02 08:00", "2026-03-04 00:00"),
            order("B2", "2026-03-03 08:00", "2026-03-06 00:00"),
            order("L1", "2026-03-09 01:00", "2026-03-12 00:00"),
            order("L2", "2026-03-09 02:00", "2026-03-12 00:00"),
            order("L3", "2026-03-09 05:00", "2026-03-13 00:00"),
        ],
    )
    insert(
        path,
        "events",
        event_rows(
            {
                "B1": happy(
                    "2026-03-02 08:00",
                    "2026-03-02 10:00",
                    "2026-03-02 14:00",
                    "2026-03-03 08:00",
                    "2026-03-03 10:00",
                    "2026-03-03 12:00",
                    "2026-03-04 20:00",
                    "2026-03-05 00:00",
                ),
                "B2": happy(
                    "2026-03-03 08:00",
                    "2026-03-03 09:00",
                    "2026-03-03 10:00",
                    "2026-03-03 20:00",
                    "2026-03-03 22:00",
                    "2026-03-04 00:00",
                    "2026-03-04 20:00",
                    "2026-03-05 00:00",
                ),
                # L1 and L2 sit in allocated: stuck 48 h later (03-11 03:00 and 04:00)
                "L1": happy("2026-03-09 01:00", "2026-03-09 02:00", "2026-03-09 03:00"),
                "L2": happy("2026-03-09 02:00", "2026-03-09 03:00", "2026-03-09 04:00"),
                "L3": happy(
                    "2026-03-09 05:00",
                    "2026-03-09 06:00",
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
        "contacts",
        [
            contact("k1", "B1", "2026-03-04 12:00"),
            contact("k2", "L1", "2026-03-13 09:00"),
            contact("k3", "L1", "2026-03-13 15:00"),
            contact("k4", "L2", "2026-03-09 12:00"),  # before L2 was listed: not an outcome of the list
            contact("k5", "L2", "2026-03-13 10:00"),
        ],
    )
    insert(
        path,
        "eta_shown",
        [
            {"order_id": "B1", "shown_from": date(2026, 3, 2), "eta_at": ts("2026-03-04 00:00"), "source": "static"},
            {"order_id": "B2", "shown_from": date(2026, 3, 3), "eta_at": ts("2026-03-06 00:00"), "source": "static"},
            {"order_id": "L3", "shown_from": date(2026, 3, 10), "eta_at": ts("2026-03-12 12:00"), "source": "model"},
        ],
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
            for o in ("L1", "L2", "L3")
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
                "held_out": o == "L2",
                "created_at": LIST_MORNING,
            }
            for r, o in enumerate(("L1", "L2", "L3"), start=1)
        ],
    )
    return path


@pytest.fixture
def two_weeks(store_file: Path) -> Path:
    return build_store(store_file)


def test_weekly_activity_by_hand(two_weeks: Path):
    weekly = benefits.weekly_activity(two_weeks, as_of=AS_OF).set_index("week_start")
    assert list(weekly.index) == [W10, W11]
    w10, w11 = weekly.loc[W10], weekly.loc[W11]
    assert (w10["orders"], w10["contacts"], w10["deliveries"], w10["sla_breaches"]) == (2, 1, 2, 1)
    assert w10["extra_promised_days_total"] == pytest.approx(1.0)  # B2 promised a day later than it came
    assert (w11["orders"], w11["contacts"], w11["deliveries"], w11["sla_breaches"]) == (3, 4, 1, 0)
    assert w11["extra_promised_days_total"] == pytest.approx(0.5)  # L3's model ETA, 12 h after delivery
    assert (w11["stuck_orders"], w11["stuck_caught_early"]) == (2, 1)  # L1 was shown; L2 held out
    assert w11["lead_time_total_h"] == pytest.approx(27.0)  # listed 03-10 00:00, stuck 03-11 03:00
    assert benefits.go_live_date(two_weeks) == date(2026, 3, 10)


def test_holdout_orders_outcomes_after_listing(two_weeks: Path):
    listed = benefits.holdout_orders(two_weeks, as_of=AS_OF).set_index("order_id")
    assert listed["held_out"].to_dict() == {"L1": False, "L2": True, "L3": False}
    assert listed["stuck"].to_dict() == {"L1": 1.0, "L2": 1.0, "L3": 0.0}
    assert listed["contacts"].to_dict() == {"L1": 2.0, "L2": 1.0, "L3": 0.0}
    assert listed["sla_breach"].to_dict() == {"L1": 1.0, "L2": 1.0, "L3": 0.0}
    assert listed["late_h"].to_dict() == {"L1": 72.0, "L2": 72.0, "L3": 0.0}
    assert set(listed["week_start"]) == {W11}


def test_holdout_point_values_and_money(two_weeks: Path):
    listed = benefits.holdout_orders(two_weeks, as_of=AS_OF)
    table = triage_effect.compare_holdout(listed, CostAssumptions(), n_boot=200, by_week=False)
    rows = table.set_index("metric")
    assert (rows.loc["stuck_pct", "treated_value"], rows.loc["stuck_pct", "held_out_value"]) == (50.0, 100.0)
    assert rows.loc["stuck_pct", "effect"] == -50.0
    assert rows.loc["stuck_pct", "value_eur"] == pytest.approx(0.5 * 40.0 * 2)  # missed_stuck_cost x 2 treated
    assert rows.loc["contacts_per_1000_orders", "effect"] == 0.0
    assert rows.loc["sla_breach_pct", "value_eur"] == pytest.approx(0.5 * 15.0 * 2)
    assert rows.loc["late_h", "effect"] == -36.0 and np.isnan(rows.loc["late_h", "value_eur"])
    assert rows.loc["triage_value_eur", "value_eur"] == pytest.approx(40.0 + 0.0 + 15.0)
    # one held-out order cannot be resampled into an interval
    assert rows["effect_ci_low"].isna().all() and not rows["significant"].any()


def test_bootstrap_interval_is_reproducible_and_covers_the_effect():
    rng = np.random.default_rng(7)
    n = 400
    listed = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "week_start": [W10] * (n // 2) + [W11] * (n // 2),
            "held_out": np.arange(n) % 4 == 0,
            "stuck": (rng.random(n) < np.where(np.arange(n) % 4 == 0, 0.5, 0.2)).astype(float),
            "contacts": rng.poisson(0.3, n).astype(float),
            "sla_breach": np.where(np.arange(n) % 10 == 3, np.nan, (rng.random(n) < 0.1).astype(float)),
            "late_h": rng.exponential(5.0, n),
        }
    )
    first = triage_effect.compare_holdout(listed, n_boot=300, seed=1)
    again = triage_effect.compare_holdout(listed, n_boot=300, seed=1)
    pd.testing.assert_frame_equal(first, again)
    assert list(first["iso_week"].unique()) == ["2026-W10", "2026-W11", "all"]
    stuck = first.loc[(first["metric"] == "stuck_pct") & (first["iso_week"] == "all")].iloc[0]
    assert stuck["effect_ci_low"] <= stuck["effect"] <= stuck["effect_ci_high"]
    assert stuck["significant"] and stuck["effect_ci_high"] < 0  # 20% vs 50% stuck on 300 vs 100 orders
    assert stuck["value_ci_low_eur"] > 0
    # NaN outcomes (no promise) are left out of that metric only
    sla = first.loc[(first["metric"] == "sla_breach_pct") & (first["iso_week"] == "all")].iloc[0]
    shown = listed.loc[~listed["held_out"]]
    assert sla["treated_value"] == pytest.approx(100 * shown["sla_breach"].mean())
    total = first.loc[(first["metric"] == "triage_value_eur") & (first["iso_week"] == "all")].iloc[0]
    assert total["value_ci_low_eur"] <= total["value_eur"] <= total["value_ci_high_eur"]
    with pytest.raises(ConfigError, match="n_boot must be at least 100"):
        triage_effect.compare_holdout(listed, n_boot=10)


def test_a_metric_with_no_outcome_in_an_arm_is_nan_without_a_warning():
    # No promise on any order (an imported log): the SLA metric has nothing to average. np.nanmean
    # warned "Mean of empty slice" here; the figure is simply unknown.
    listed = pd.DataFrame(
        {
            "order_id": ["a", "b", "c", "d"],
            "week_start": [W10] * 4,
            "held_out": [False, False, True, True],
            "stuck": [1.0, 0.0, 1.0, 1.0],
            "contacts": [0.0, 1.0, 2.0, 1.0],
            "sla_breach": [np.nan] * 4,
            "late_h": [0.0, 2.0, 4.0, 6.0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = triage_effect.compare_holdout(listed, n_boot=100, by_week=False)
    sla = table.loc[table["metric"] == "sla_breach_pct"].iloc[0]
    assert np.isnan(sla["treated_value"]) and np.isnan(sla["held_out_value"])
    stuck = table.loc[table["metric"] == "stuck_pct"].iloc[0]
    assert (stuck["treated_value"], stuck["held_out_value"]) == (50.0, 100.0)


def test_ledger_against_baseline_by_hand(two_weeks: Path):
    ledger = benefits.benefit_ledger(two_weeks, as_of=AS_OF, n_boot=200)
    assert list(ledger.drop_duplicates("week_start")["period"]) == ["baseline", "live"]
    live = ledger.loc[ledger["iso_week"] == "2026-W11"].set_index("metric")
    assert live.loc["contacts_per_1000_orders", "value"] == pytest.approx(4 / 3 * 1000)
    assert live.loc["contacts_per_1000_orders", "baseline_value"] == pytest.approx(500.0)
    # contacts: (500 - 1333.3) / 1000 x 3 orders x 6 EUR; SLA: (50% - 0%) x 1 delivery x 15 EUR
    assert live.loc["contacts_per_1000_orders", "value_eur"] == pytest.approx(-15.0)
    assert live.loc["sla_breach_pct", "value_eur"] == pytest.approx(7.5)
    assert live.loc["extra_promised_days", "value_eur"] == pytest.approx(0.0)
    assert live.loc["stuck_caught_early_pct", "value"] == 50.0
    assert live.loc["lead_time_h", "value"] == pytest.approx(27.0)
    assert live.loc["triage_value_eur", "value_eur"] == pytest.approx(55.0)
    assert live.loc["total_value_eur", "value"] == pytest.approx(-15.0 + 7.5 + 0.0 + 55.0)
    # targets beside each figure, with the direction that counts as better
    targets = BenefitTargets()
    assert live.loc["lead_time_h", "target"] == targets.lead_time_h
    assert bool(live.loc["lead_time_h", "meets_target"]) is True
    assert bool(live.loc["contacts_per_1000_orders", "meets_target"]) is False
    base = ledger.loc[ledger["iso_week"] == "2026-W10"].set_index("metric")
    assert base["value_eur"].isna().all()
    assert base.loc["sla_breach_pct", "value"] == 50.0 and base.loc["sla_breach_pct", "change_vs_baseline"] == 0.0


def test_ledger_uses_stored_assumptions_and_targets(two_weeks: Path):
    assumptions.save_assumptions({"contact_cost": 12.0}, actor="owner", reason="test", store_path=two_weeks)
    assumptions.save_targets({"lead_time_h": None}, actor="owner", reason="test", store_path=two_weeks)
    live = benefits.benefit_ledger(two_weeks, as_of=AS_OF, n_boot=200, weeks=1).set_index("metric")
    assert set(live["iso_week"]) == {"2026-W11"}
    assert live.loc["contacts_per_1000_orders", "value_eur"] == pytest.approx(-30.0)
    assert np.isnan(live.loc["lead_time_h", "target"]) and pd.isna(live.loc["lead_time_h", "meets_target"])
    # the ledger as valued with the assumptions of a day before they changed
    before = benefits.benefit_ledger(two_weeks, as_of=AS_OF, n_boot=200, weeks=1, assumptions_at=date(2026, 1, 1))
    assert before.set_index("metric").loc["contacts_per_1000_orders", "value_eur"] == pytest.approx(-15.0)
    with pytest.raises(ConfigError, match="--weeks must be at least 1"):
        benefits.benefit_ledger(two_weeks, as_of=AS_OF, weeks=0)


def test_report_is_json_ready(two_weeks: Path):
    import json

    report = benefits.benefits_report(two_weeks, as_of=AS_OF, n_boot=200)
    text = json.dumps(report)
    assert [w["iso_week"] for w in report["ledger"]] == ["2026-W10", "2026-W11"]
    assert report["go_live_date"] == "2026-03-10" and report["assumptions"]["contact_cost"] == 6.0
    assert "NaN" not in text


def test_before_go_live_everything_is_baseline():
    activity = pd.DataFrame(
        {
            "week_start": [W10],
            "orders": [10],
            "contacts": [2],
            "deliveries": [5],
            "deliveries_with_sla": [5],
            "sla_breaches": [1],
            "deliveries_with_promise": [5],
            "extra_promised_days_total": [2.5],
            "stuck_orders": [0],
            "stuck_caught_early": [0],
            "lead_time_total_h": [0.0],
        }
    )
    ledger = benefits.build_ledger(activity, None).set_index("metric")
    assert set(ledger["period"]) == {"baseline"}
    assert ledger.loc["contacts_per_1000_orders", "value"] == 200.0
    assert ledger.loc["extra_promised_days", "value"] == 0.5
    assert np.isnan(ledger.loc["stuck_caught_early_pct", "value"])  # nothing got stuck
    assert ledger["value_eur"].isna().all()
    assert benefits.build_ledger(activity.iloc[:0], None).empty


def test_benefits_cli_json(two_weeks: Path, capsys: pytest.CaptureFixture[str]):
    import json

    from core.cli import main

    args = ["benefits", "--json", "--store", str(two_weeks), "--as-of", "2026-03-14", "--resamples", "200"]
    assert main([*args, "--weeks", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [w["iso_week"] for w in report["ledger"]] == ["2026-W11"]
    total = {f["metric"]: f for f in report["ledger"][0]["figures"]}["total_value_eur"]
    assert total["value"] == pytest.approx(47.5)
    assert main(["benefits", "--store", str(two_weeks), "--as-of", "2026-03-14", "--resamples", "200"]) == 0
    assert "2026-W11  live" in capsys.readouterr().out
    assert main([*args, "--weeks", "0"]) == 2
    assert "--weeks must be at least 1" in capsys.readouterr().err
    assert main(["benefits", "--store", str(two_weeks), "--as-of", "14/03/2026"]) == 2
    assert "is not a date" in capsys.readouterr().err


def test_first_week_of_history_only_warms_up():
    def week(start: str, orders: int, contacts: int) -> dict:
        return {
            "week_start": pd.Timestamp(start),
            "orders": orders,
            "contacts": contacts,
            "deliveries": 10,
            "deliveries_with_sla": 10,
            "sla_breaches": 1,
            "deliveries_with_promise": 10,
            "extra_promised_days_total": 5.0,
            "stuck_orders": 0,
            "stuck_caught_early": 0,
            "lead_time_total_h": 0.0,
        }

    activity = pd.DataFrame(
        [
            week("2026-03-02", 100, 1),
            week("2026-03-09", 100, 8),
            week("2026-03-16", 100, 12),
            week("2026-03-23", 100, 5),
        ]
    )
    ledger = benefits.build_ledger(activity, date(2026, 3, 24))
    contacts = ledger.loc[ledger["metric"] == "contacts_per_1000_orders"]
    assert list(contacts["period"]) == ["warm_up", "baseline", "baseline", "live"]
    assert contacts["baseline_value"].iloc[0] == pytest.approx(100.0)  # (8 + 12) / 200 orders, not W10's 1
    assert contacts["value_eur"].iloc[3] == pytest.approx((100.0 - 50.0) / 1000 * 100 * 6.0)
    # with a single pre-model week that week is the baseline
    single = benefits.build_ledger(activity.iloc[2:], date(2026, 3, 24))
    assert list(single.drop_duplicates("week_start")["period"]) == ["baseline", "live"]


def test_cli_on_a_store_from_before_the_daily_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import duckdb

    from core.cli import main

    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute(store.load_sql("schema_001"))  # orders, events, contacts: no predictions, no triage list
    con.execute("insert into events values ('e1', 'A', 'placed', '2026-03-02 08:00', null, 'test', now())")
    con.close()
    assert main(["benefits", "--store", str(old)]) == 2
    assert "run the daily job once to migrate it" in capsys.readouterr().err
    assert main(["accuracy", "--store", str(old)]) == 2
    assert "run the daily job once" in capsys.readouterr().err
