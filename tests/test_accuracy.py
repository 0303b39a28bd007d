from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import store
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.monitor import accuracy

AS_OF = datetime(2026, 3, 10, 0, 0)
MORNING_1 = datetime(2026, 3, 2, 0, 0)
MORNING_2 = datetime(2026, 3, 9, 0, 0)


def insert(path: Path, table: str, rows: list[dict]) -> None:
    """Insert dict rows into a store table (columns by name; values bound)."""
    with store.transaction(path) as con:
        con.register("new_rows", pd.DataFrame(rows))
        # The table name is one of the schema's, written in this file; values go in as a frame.
        con.execute("insert into " + table + " by name select * from new_rows")  # noqa: S608


def at(day: datetime, hours: float) -> datetime:
    return day + timedelta(hours=hours)


def event_rows(journeys: dict[str, list[tuple[str, datetime]]]) -> list[dict]:
    return [
        {
            "event_id": f"{order}-{i}",
            "order_id": order,
            "stage": stage,
            "event_ts": ts,
            "source": "test",
            "loaded_at": AS_OF,
        }
        for order, steps in journeys.items()
        for i, (stage, ts) in enumerate(steps)
    ]


def order_row(order: str, placed: datetime, carrier: str, promised: datetime | None = None) -> dict:
    return {
        "order_id": order,
        "placed_at": placed,
        "carrier": carrier,
        "region": "north",
        "channel": "web",
        "ship_mode": "standard",
        "customer_tier": "gold",
        "promised_at": promised,
        "source": "test",
        "loaded_at": AS_OF,
    }


def prediction_row(order: str, morning: datetime, p10: float, p50: float, p90: float, prob: float = 0.1) -> dict:
    return {
        "as_of_date": morning.date(),
        "as_of_at": morning,
        "order_id": order,
        "role": "champion",
        "p10_h": p10,
        "p50_h": p50,
        "p90_h": p90,
        "stuck_prob": prob,
        "scored_at": morning,
    }


def build_store(path: Path) -> Path:
    """Six orders, hand-computed outcomes as of 2026-03-10 00:00 (see the expectations below)."""
    pre = datetime(2026, 3, 1, 20, 0)
    insert(
        path,
        "orders",
        [
            order_row("O1", pre, "fast"),
            order_row("O2", pre, "fast"),
            order_row("O3", pre, "slow"),
            order_row("O4", pre, "slow"),
            order_row("O5", pre, "fast"),
            order_row("O6", datetime(2026, 3, 8, 12, 0), "slow"),
        ],
    )
    insert(
        path,
        "events",
        event_rows(
            {
                "O1": [("placed", pre), ("payment_confirmed", at(pre, 2)), ("delivered", at(MORNING_1, 30))],
                "O2": [("placed", pre), ("payment_confirmed", at(pre, 2)), ("delivered", at(MORNING_1, 15))],
                "O3": [("placed", pre), ("payment_confirmed", at(pre, 2)), ("delivered", at(MORNING_1, 50))],
                # O4 sits in allocated from 03-02 02:00: stuck 48 h later, 03-04 02:00, never delivered
                "O4": [("placed", pre), ("payment_confirmed", at(pre, 1)), ("allocated", at(MORNING_1, 2))],
                "O5": [("placed", pre), ("cancelled", at(MORNING_1, 5))],
                "O6": [("placed", datetime(2026, 3, 8, 12, 0)), ("payment_confirmed", datetime(2026, 3, 8, 13, 0))],
            }
        ),
    )
    insert(
        path,
        "predictions",
        [
            prediction_row("O1", MORNING_1, 10, 20, 40),
            prediction_row("O2", MORNING_1, 10, 20, 40),
            prediction_row("O3", MORNING_1, 10, 20, 40),
            prediction_row("O4", MORNING_1, 5, 10, 20, prob=0.7),
            prediction_row("O5", MORNING_1, 5, 10, 20),
            prediction_row("O6", MORNING_2, 10, 20, 40, prob=0.25),
        ],
    )
    created = {"created_at": AS_OF}
    insert(
        path,
        "triage_list",
        [
            {
                "as_of_date": MORNING_1.date(),
                "order_id": "O4",
                "rank": 1,
                "expected_cost": 28.0,
                "stuck_prob": 0.7,
                "held_out": False,
                **created,
            },
            {
                "as_of_date": MORNING_1.date(),
                "order_id": "O2",
                "rank": 2,
                "expected_cost": 4.0,
                "stuck_prob": 0.1,
                "held_out": True,
                **created,
            },
            {
                "as_of_date": MORNING_2.date(),
                "order_id": "O6",
                "rank": 1,
                "expected_cost": 10.0,
                "stuck_prob": 0.25,
                "held_out": False,
                **created,
            },
        ],
    )
    return path


@pytest.fixture
def six_orders(store_file: Path) -> Path:
    return build_store(store_file)


def test_realised_forecast_figures_by_hand(six_orders: Path):
    scored = accuracy.load_forecast_outcomes(six_orders, as_of=AS_OF)
    # O5 was cancelled: no delivery to judge it by
    assert list(scored["order_id"]) == ["O1", "O2", "O3", "O4", "O6"]
    realised = scored.loc[~scored["estimated"]].set_index("order_id")
    assert realised["actual_h"].to_dict() == {"O1": 30.0, "O2": 15.0, "O3": 50.0, "O4": 192.0}
    assert realised["overdue"].to_dict() == {"O1": False, "O2": False, "O3": False, "O4": True}
    summary = accuracy.summarise_forecasts(scored)
    row = summary.loc[~summary["estimated"]].iloc[0]
    assert row["forecasts"] == 4
    assert row["mae_h"] == pytest.approx((10 + 5 + 30 + 182) / 4)
    assert row["bias_h"] == pytest.approx((-10 + 5 - 30 - 182) / 4)
    assert row["coverage_80_pct"] == pytest.approx(50.0)
    assert row["too_early_pct"] == pytest.approx(75.0)  # O1, O3 and the overdue O4 came after the ETA
    assert row["too_late_pct"] == pytest.approx(25.0)
    assert row["interval_width_h"] == pytest.approx((30 + 30 + 30 + 15) / 4)
    costs = CostAssumptions()
    expected_cost = np.mean(
        [
            costs.late_cost_per_day * 10 / 24 + costs.contact_cost * 10 / 24,
            costs.early_promise_cost_per_day * 5 / 24,
            costs.late_cost_per_day * 30 / 24 + costs.contact_cost * 1.0,
            costs.late_cost_per_day * 182 / 24 + costs.contact_cost * 1.0,
        ]
    )
    assert row["cost_per_forecast_eur"] == pytest.approx(expected_cost)
    # only O2's ETA came after its delivery: the conservative part of the cost
    assert row["conservative_cost_per_forecast_eur"] == pytest.approx(costs.early_promise_cost_per_day * 5 / 24 / 4)


def test_immature_forecast_is_estimated_from_its_quantiles(six_orders: Path):
    scored = accuracy.load_forecast_outcomes(six_orders, as_of=AS_OF)
    o6 = scored.set_index("order_id").loc["O6"]
    assert bool(o6["estimated"]) and not bool(o6["matured"]) and np.isnan(o6["actual_h"])
    # 24 h elapsed of p10/p50/p90 = 10/20/40: P(remaining <= 24) = 0.5 + 0.4 * 4/20 = 0.58; the interval
    # then holds (0.9 - 0.58) / 0.42 = 76% of what is left (76 of 100 grid points), and every
    # possible delivery comes after the p50 ETA.
    assert o6["covered"] == pytest.approx(76 / 100)
    assert o6["too_early"] == 1.0 and o6["too_late"] == 0.0
    assert o6["abs_error_h"] > 4.0  # at least the 4 h already past the p50
    summary = accuracy.summarise_forecasts(scored)
    est = summary.loc[summary["estimated"]].iloc[0]
    assert est["forecasts"] == 1 and est["coverage_80_pct"] == pytest.approx(100 * 76 / 100)


def test_estimate_with_nothing_elapsed_is_the_calibrated_interval():
    n = 3
    est = accuracy.estimate_immature(
        np.full(n, 10.0), np.full(n, 20.0), np.full(n, 40.0), np.zeros(n), CostAssumptions()
    )
    assert est["covered"].tolist() == [0.8] * n
    assert est["too_early"].tolist() == [0.5] * n
    # crossed quantiles do not break the estimate
    crossed = accuracy.estimate_immature(
        np.array([30.0]), np.array([20.0]), np.array([40.0]), np.zeros(1), CostAssumptions()
    )
    assert np.isfinite(crossed.to_numpy()).all()


def test_accuracy_over_time_by_morning(six_orders: Path):
    by_day = accuracy.forecast_accuracy(six_orders, as_of=AS_OF)
    assert list(zip(by_day["as_of_date"].astype(str), by_day["estimated"], by_day["forecasts"], strict=True)) == [
        ("2026-03-02", False, 4),
        ("2026-03-09", True, 1),
    ]
    # an earlier as-of judges the same forecasts with what was known then: O3 (50 h) is not matured,
    # O4 already is (36 h > its p90 of 20 h), and O6 was not forecast yet
    early = accuracy.load_forecast_outcomes(six_orders, as_of=at(MORNING_1, 36))
    assert early.set_index("order_id")["estimated"].to_dict() == {"O1": False, "O2": False, "O3": True, "O4": False}
    # since= keeps later mornings only
    assert list(accuracy.forecast_accuracy(six_orders, as_of=AS_OF, since=date(2026, 3, 5))["forecasts"]) == [1]


def test_triage_precision_and_lead_time(six_orders: Path):
    listings = accuracy.load_listing_outcomes(six_orders, as_of=AS_OF).set_index("order_id")
    assert listings["stuck_after"].to_dict() == {"O4": 1.0, "O2": 0.0, "O6": 0.25}
    assert listings["estimated"].to_dict() == {"O4": False, "O2": False, "O6": True}
    assert listings.loc["O4", "lead_time_h"] == pytest.approx(50.0)  # listed 03-02 00:00, stuck 03-04 02:00
    by_day = accuracy.triage_accuracy(six_orders, as_of=AS_OF, k=1)
    rows = by_day.set_index(["as_of_date", "estimated"])
    day1 = rows.loc[(pd.Timestamp("2026-03-02"), False)]
    assert (day1["listed"], day1["top_k"], day1["precision_at_k_pct"]) == (2, 1, 100.0)
    assert day1["lead_time_h"] == pytest.approx(50.0)
    assert accuracy.triage_accuracy(six_orders, as_of=AS_OF, k=2).iloc[0]["precision_at_k_pct"] == 50.0
    day2 = rows.loc[(pd.Timestamp("2026-03-09"), True)]
    assert day2["precision_at_k_pct"] == pytest.approx(25.0)
    with pytest.raises(ConfigError, match="k must be at least 1"):
        accuracy.triage_accuracy(six_orders, as_of=AS_OF, k=0)


def test_stuck_instants_match_the_simulator_definition(store_file: Path):
    from core.world import simulate

    world = simulate.World(simulate.load_world_config(), seed=3, start=date(2026, 3, 2), orders_per_day=40)
    feeds = [world.step() for _ in range(12)]
    events = pd.concat([f.events for f in feeds], ignore_index=True)
    orders = pd.concat([f.orders for f in feeds], ignore_index=True)
    with store.transaction(store_file) as con:
        con.register("ev", events)
        con.execute(
            "insert into events (event_id, order_id, stage, event_ts, source, loaded_at) "
            "select event_id, order_id, stage, event_ts, 'sim', event_ts from ev"
        )
        con.register("od", orders[["order_id", "placed_at"]])
        con.execute(
            "insert into orders (order_id, placed_at, source, loaded_at) select order_id, placed_at, 'sim', "
            "placed_at from od"
        )
    as_of = pd.Timestamp(events["event_ts"].max()).to_pydatetime()
    stuck = accuracy.stuck_instants(store_file, as_of=as_of)
    assert len(stuck) > 0
    assert sorted(stuck["order_id"]) == sorted(simulate.stuck_orders(events, as_of))


def test_as_of_parsing_and_errors(store_file: Path):
    assert accuracy.resolve_as_of("2026-03-09") == datetime(2026, 3, 9, 23, 59, 59)
    with pytest.raises(ConfigError, match="cannot read --as-of"):
        accuracy.resolve_as_of("yesterday")
    with store.connect(store_file):
        pass
    with pytest.raises(ConfigError, match="holds no events"):
        accuracy.resolve_as_of(None, store_file)


def test_overview_keeps_realised_and_estimated_apart(six_orders: Path):
    overview = accuracy.accuracy_overview(six_orders, as_of=AS_OF, k=1)
    assert overview["forecast"]["realised"]["forecasts"] == 4
    assert overview["forecast"]["estimated"]["forecasts"] == 1
    assert overview["triage"]["realised"]["precision_at_k_pct"] == 100.0


def test_accuracy_cli(six_orders: Path, capsys: pytest.CaptureFixture[str]):
    import json

    from core.cli import main

    assert main(["accuracy", "--json", "--store", str(six_orders), "--as-of", "2026-03-09", "--k", "1"]) == 0
    overview = json.loads(capsys.readouterr().out)
    assert overview["forecast"]["realised"]["forecasts"] == 4
    assert overview["forecast"]["realised"]["coverage_80_pct"] == 50.0
    assert main(["accuracy", "--store", str(six_orders), "--as-of", "2026-03-09"]) == 0
    assert "forecast realised" in capsys.readouterr().out
    assert main(["accuracy", "--store", str(six_orders), "--k", "0"]) == 2
    assert "--k must be at least 1" in capsys.readouterr().err


def test_overview_per_carrier_and_matured_mornings(six_orders: Path):
    overview = accuracy.accuracy_overview(six_orders, as_of=AS_OF, k=1)
    by_carrier = overview["forecast_by_carrier"]
    assert set(by_carrier) == {"fast", "slow"}
    assert by_carrier["fast"]["realised"]["forecasts"] == 2  # O1, O2 (O5 was cancelled)
    assert by_carrier["fast"]["realised"]["mae_h"] == pytest.approx((10 + 5) / 2)
    assert by_carrier["slow"]["realised"]["forecasts"] == 2  # O3 and the overdue O4
    assert by_carrier["slow"]["estimated"]["forecasts"] == 1  # O6
    # Morning 1: three of its four judged orders delivered (75%); morning 2: none yet.
    assert overview["matured_mornings"] == []
    scored = accuracy.load_forecast_outcomes(six_orders, as_of=AS_OF)
    assert accuracy.matured_mornings(scored, share=0.75) == [MORNING_1.date()]
    assert accuracy.matured_mornings(scored, share=0.76) == []


def test_recovery_figures_over_matured_mornings(six_orders: Path):
    from core.monitor import recovery

    rows, mornings = recovery.matured_forecasts(six_orders, as_of=AS_OF, share=0.75)
    assert mornings == [MORNING_1.date()]
    assert list(rows["order_id"]) == ["O1", "O2", "O3", "O4"]  # the matured forecasts of that morning
    figures = recovery.live_figures(rows)
    assert figures == pytest.approx(
        {
            "forecasts": 4,
            "mae_h": (10 + 5 + 30 + 182) / 4,
            "bias_h": (-10 + 5 - 30 - 182) / 4,
            "coverage_80_pct": 50.0,
            "after_p50_pct": 75.0,
        }
    )
    assert recovery.by_segment(rows)["fast"]["mae_h"] == pytest.approx(7.5)
    report = recovery.recovery_report(six_orders, as_of=AS_OF, weeks=2, hindsight=False)
    assert report["matured_mornings"] == [] and report["live"] == {"forecasts": 0}


def test_recovery_cli(six_orders: Path, capsys: pytest.CaptureFixture[str]):
    import json

    from core.cli import main

    args = ["recovery", "--store", str(six_orders), "--as-of", "2026-03-09", "--no-hindsight"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["since"] == "2026-02-17" and report["matured_mornings"] == []
    assert report["live"] == {"forecasts": 0} and "hindsight" not in report
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("matured mornings since 2026-02-17: 0")
    assert main([*args, "--weeks", "0"]) == 2
    assert "--weeks must be from 1 to 520, got 0" in capsys.readouterr().err
