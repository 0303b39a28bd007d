"""Stores for the daily-work pages: a tiny exact one (two mornings, five orders) and a demo-sized one
whose daily tables are filled from the simulated world's open orders (fast, no training)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import store

YESTERDAY = date(2026, 3, 9)
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 8, 0)

# order_id, placed_at, channel, region, carrier, order_value
ORDERS = [
    ("O1", "2026-03-08 10:00", "web", "north", "fastship", 120.0),
    ("O2", "2026-03-08 12:00", "app", "south", "budgetbox", 40.0),
    ("O3", "2026-03-08 13:00", "web", "north", "fastship", 80.0),
    ("O4", "2026-03-07 09:00", "web", "south", "fastship", 60.0),
    ("O5", "2026-03-09 08:00", "app", "north", "budgetbox", 300.0),
]
EVENTS = [
    ("O1", "placed", "2026-03-08 10:00"),
    ("O1", "payment_confirmed", "2026-03-08 11:00"),
    ("O1", "allocated", "2026-03-09 09:00"),
    ("O2", "placed", "2026-03-08 12:00"),
    ("O2", "payment_hold", "2026-03-09 10:00"),
    ("O3", "placed", "2026-03-08 13:00"),
    ("O3", "payment_confirmed", "2026-03-08 14:00"),
    ("O4", "placed", "2026-03-07 09:00"),
    ("O4", "shipped", "2026-03-08 09:00"),
    ("O4", "delivered", "2026-03-10 12:00"),
    ("O5", "placed", "2026-03-09 08:00"),
    ("O5", "payment_confirmed", "2026-03-10 18:00"),
    ("O5", "shipped", "2026-03-11 06:00"),  # after the last morning: never in its journey
]
# as_of_date, order_id, rank, expected_cost, stuck_prob, held_out
LISTS = [
    (YESTERDAY, "O4", 1, 50.0, 0.5, False),
    (YESTERDAY, "O1", 2, 30.0, 0.3, False),
    (TODAY, "O1", 1, 90.0, 0.6, False),
    (TODAY, "O3", 2, 80.0, 0.55, True),
    (TODAY, "O2", 3, 40.0, 0.4, False),
    (TODAY, "O5", 4, 20.0, 0.2, False),
]
# as_of_date, order_id, stage, p10_h, p50_h, p90_h
PREDICTIONS = [
    (YESTERDAY, "O1", "allocated", 30.0, 50.0, 80.0),
    (YESTERDAY, "O2", "payment_hold", 40.0, 60.0, 90.0),
    (YESTERDAY, "O3", "payment_confirmed", 40.0, 60.0, 90.0),
    (YESTERDAY, "O4", "shipped", 10.0, 20.0, 40.0),  # delivered 12 h after: error 8 h, inside
    (YESTERDAY, "O5", "placed", 50.0, 70.0, 100.0),
    (TODAY, "O1", "allocated", 20.0, 40.0, 70.0),
    (TODAY, "O2", "payment_hold", 30.0, 50.0, 80.0),
    (TODAY, "O3", "payment_confirmed", 30.0, 50.0, 80.0),
    (TODAY, "O5", "payment_confirmed", 40.0, 60.0, 90.0),
]
REASONS = {
    "O1": [{"text": "waiting in allocated 25 h (usual: 6 h)"}],
    "O2": [{"text": "payment on hold"}],
    "O5": [{"text": '=HYPERLINK("http://x")'}],
}


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time())


def _insert_frame(con, table: str, frame: pd.DataFrame) -> None:
    con.register("new_rows", frame)
    con.execute(f"insert into {table} by name select * from new_rows")  # noqa: S608 - fixed table names
    con.unregister("new_rows")


def write_daily_tables(
    path: Path,
    *,
    predictions: pd.DataFrame,
    lists: pd.DataFrame,
    summary: pd.DataFrame,
    eta: pd.DataFrame | None = None,
    alerts: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
) -> None:
    """Insert the daily job's outputs (only the columns given; the rest stay null)."""
    with store.transaction(path) as con:
        for table, frame in (
            ("predictions", predictions),
            ("triage_list", lists),
            ("daily_summary", summary),
            ("eta_shown", eta),
            ("alerts", alerts),
            ("triage_actions", actions),
        ):
            if frame is not None and len(frame):
                _insert_frame(con, table, frame)


def tiny_store(path: Path) -> Path:
    """Two mornings (9 and 10 March 2026), five orders, one held out, two alerts, one simulated action."""
    orders = pd.DataFrame(ORDERS, columns=["order_id", "placed_at", "channel", "region", "carrier", "order_value"])
    orders["placed_at"] = pd.to_datetime(orders["placed_at"])
    orders["source"], orders["loaded_at"] = "test", NOW
    events = pd.DataFrame(EVENTS, columns=["order_id", "stage", "event_ts"])
    events["event_ts"] = pd.to_datetime(events["event_ts"])
    events["event_id"] = [f"e{i:03d}" for i in range(len(events))]
    events["source"], events["loaded_at"] = "test", NOW
    predictions = pd.DataFrame(
        PREDICTIONS, columns=["as_of_date", "order_id", "current_stage", "p10_h", "p50_h", "p90_h"]
    )
    predictions["as_of_at"] = predictions["as_of_date"].map(_end)
    for q in ("p10", "p50", "p90"):
        predictions[f"eta_{q}_at"] = predictions["as_of_at"] + pd.to_timedelta(predictions[f"{q}_h"], unit="h")
    predictions["role"] = "champion"
    predictions["forecaster_version"] = predictions["as_of_date"].map({YESTERDAY: "fc-v1", TODAY: "fc-v2"})
    predictions["stuck_prob"], predictions["scored_at"] = 0.3, NOW
    lists = pd.DataFrame(LISTS, columns=["as_of_date", "order_id", "rank", "expected_cost", "stuck_prob", "held_out"])
    lists = lists.merge(
        predictions[["as_of_date", "order_id", "eta_p10_at", "eta_p50_at", "eta_p90_at"]], on=["as_of_date", "order_id"]
    )
    lists["reasons"] = lists["order_id"].map(lambda o: json.dumps(REASONS.get(o, [])))
    lists["created_at"] = NOW
    summary = pd.DataFrame(
        {
            "as_of_date": [YESTERDAY, TODAY],
            "as_of_at": [_end(YESTERDAY), _end(TODAY)],
            "forecaster_version": ["fc-v1", "fc-v2"],
            "classifier_version": ["sc-v1", "sc-v1"],
            # open_orders 0: Today counts open orders from the events, not from the summary
            "eta_source": ["model", "model"],
            "open_orders": [0, 0],
            "listed": [2, 4],
            "held_out": [0, 1],
            "sim_actions": [1, 0],
            "alerts": [1, 1],
            "computed_at": [NOW, NOW],
        }
    )
    eta = pd.DataFrame(
        {
            "order_id": ["O1", "O1", "O2"],
            "shown_from": [date(2026, 3, 8), TODAY, date(2026, 3, 8)],
            "eta_at": [_ts("2026-03-12 18:00"), _ts("2026-03-12 16:00"), _ts("2026-03-13 12:00")],
            "source": ["static", "model", "static"],
            "version": [None, "fc-v2", None],
        }
    )
    alerts = pd.DataFrame(
        {
            "alert_id": ["a1", "a2"],
            "as_of": [YESTERDAY, TODAY],
            "rule": ["stale_feed", "accuracy_decay"],
            "severity": ["warning", "critical"],
            "subject": ["feed", "forecaster"],
            "message": ["m1", "m2"],
            "status": ["acknowledged", "open"],
            "created_at": [NOW, NOW],
            "updated_at": [NOW, NOW],
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": ["sim-1"],
            "order_id": ["O1"],
            "as_of_date": [YESTERDAY],
            "action": ["chased_warehouse"],
            "note": [None],
            "actor": ["sim-triage"],
            "acted_at": [_ts("2026-03-10 09:00")],
        }
    )
    with store.transaction(path) as con:
        _insert_frame(con, "orders", orders)
        _insert_frame(con, "events", events)
    write_daily_tables(
        path, predictions=predictions, lists=lists, summary=summary, eta=eta, alerts=alerts, actions=actions
    )
    return path


def _unit(order_ids: pd.Series, salt: str) -> np.ndarray:
    # A stable pseudo-random number in [0, 1) per order: the demo's lists do not move between runs.
    return np.array([int(hashlib.sha256(f"{salt}{o}".encode()).hexdigest()[:8], 16) / 16**8 for o in order_ids])


def demo_daily_store(tmp_path_factory: pytest.TempPathFactory, days: int = 6, list_size: int = 40) -> Path:
    """The simulated world (25 days × 150 orders, no training) with the last `days` mornings of
    predictions, lists, ETAs, a summary and an alert filled in: realistic pages in about 2 s."""
    path = tmp_path_factory.getbasetemp() / "worklist_demo" / "journeyops.duckdb"
    if path.exists():
        return path
    from core.cli import main

    args = ["demo", "--store", str(path), "--days", "25", "--orders-per-day", "150", "--skip-training"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(args) == 0
    with store.connect(path, read_only=True) as con:
        orders = con.execute("select * from orders").df()
        events = con.execute("select order_id, stage, event_ts from events").df()
        last_day = con.execute("select max(event_ts)::date from events").fetchone()[0]
    frames: dict[str, list[pd.DataFrame]] = {"predictions": [], "lists": [], "summary": [], "eta": []}
    for offset in range(days - 1, -1, -1):
        day = last_day - timedelta(days=offset)
        as_of_at = _end(day)
        seen = events[events["event_ts"] < as_of_at].sort_values("event_ts")
        latest = seen.groupby("order_id").tail(1)
        open_now = latest[~latest["stage"].isin(["delivered", "cancelled"])].rename(columns={"stage": "current_stage"})
        open_now = open_now.merge(orders[["order_id", "placed_at", "order_value"]], on="order_id")
        u = _unit(open_now["order_id"], day.isoformat())
        elapsed_h = (as_of_at - open_now["placed_at"]).dt.total_seconds() / 3600
        p50_h = 12 + 60 * u
        pred = pd.DataFrame(
            {
                "as_of_date": day,
                "as_of_at": as_of_at,
                "order_id": open_now["order_id"],
                "role": "champion",
                "forecaster_version": "forecaster-v1",
                "classifier_version": "stuck_classifier-v1",
                "current_stage": open_now["current_stage"],
                "elapsed_h": elapsed_h,
                "p10_h": p50_h * 0.5,
                "p50_h": p50_h,
                "p90_h": p50_h * 1.8,
                "stuck_prob": np.clip(0.05 + 0.9 * u**3 + elapsed_h.to_numpy() / 2000, 0, 0.99),
                "scored_at": NOW,
            }
        )
        for q in ("p10", "p50", "p90"):
            pred[f"eta_{q}_at"] = as_of_at + pd.to_timedelta(pred[f"{q}_h"], unit="h")
        cost = pred["stuck_prob"] * (40 + open_now["order_value"].to_numpy() * 0.2)
        top = pred.assign(expected_cost=cost).nlargest(list_size, "expected_cost").reset_index(drop=True)
        stage_text = top["current_stage"].str.replace("_", " ")
        listed = top[
            ["as_of_date", "order_id", "expected_cost", "stuck_prob", "eta_p10_at", "eta_p50_at", "eta_p90_at"]
        ].assign(
            rank=np.arange(1, len(top) + 1),
            held_out=_unit(top["order_id"], "holdout") < 0.1,
            reasons=[
                json.dumps([{"text": f"in {s} for {h:.0f} h"}, {"text": "carrier slower than usual"}])
                for s, h in zip(stage_text, top["elapsed_h"], strict=True)
            ],
            created_at=NOW,
        )
        frames["predictions"].append(pred)
        frames["lists"].append(listed)
        frames["eta"].append(
            pd.DataFrame(
                {
                    "order_id": pred["order_id"],
                    "shown_from": day + timedelta(days=1),
                    "eta_at": pred["eta_p50_at"],
                    "source": "model",
                    "version": "forecaster-v1",
                }
            )
        )
        frames["summary"].append(
            pd.DataFrame(
                {
                    "as_of_date": [day],
                    "as_of_at": [as_of_at],
                    "forecaster_version": ["forecaster-v1"],
                    "classifier_version": ["stuck_classifier-v1"],
                    "eta_source": ["model"],
                    "open_orders": [len(pred)],
                    "listed": [len(listed)],
                    "held_out": [int(listed["held_out"].sum())],
                    "sim_actions": [0],
                    "alerts": [0],
                    "computed_at": [NOW],
                }
            )
        )
    alerts = pd.DataFrame(
        {
            "alert_id": ["demo-1"],
            "as_of": [last_day],
            "rule": ["stale_feed"],
            "severity": ["warning"],
            "subject": ["feed"],
            "message": ["no events from carrier budgetbox for 20 h"],
            "status": ["open"],
            "created_at": [NOW],
            "updated_at": [NOW],
        }
    )
    with store.transaction(path) as con:
        con.execute("delete from daily_summary")  # the demo's pre-model summaries: the filled days replace them
    write_daily_tables(
        path,
        predictions=pd.concat(frames["predictions"]),
        lists=pd.concat(frames["lists"]),
        summary=pd.concat(frames["summary"]),
        eta=pd.concat(frames["eta"]),
        alerts=alerts,
    )
    return path
