"""The closed loop: the world is told yesterday's decisions, refuses gaps, and the demo history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core import store
from core.errors import ConfigError
from core.jobs import closed_loop, daily
from core.world import simulate


def small_world(start: date) -> simulate.World:
    return simulate.World(simulate.load_world_config(), seed=3, start=start, orders_per_day=40)


def test_world_refuses_to_skip_days(store_file: Path) -> None:
    world = small_world(date(2026, 3, 2))
    with pytest.raises(ConfigError, match="has only reached 2026-03-02; run the days before 2026-03-04"):
        closed_loop.advance_world(world, date(2026, 3, 4), store_file)


def test_a_day_already_simulated_is_not_simulated_again(store_file: Path) -> None:
    world = small_world(date(2026, 3, 2))
    files = closed_loop.advance_world(world, date(2026, 3, 2), store_file)
    assert [p.name for p in files] == [
        "orders_2026-03-02.parquet",
        "events_2026-03-02.parquet",
        "contacts_2026-03-02.parquet",
        "events_late_2026-03-02.csv",  # the late delivery of world.toml's feed defects
    ]
    stamps = [p.stat().st_mtime_ns for p in files]
    assert closed_loop.advance_world(world, date(2026, 3, 2), store_file) == files
    assert [p.stat().st_mtime_ns for p in files] == stamps
    assert world.day == date(2026, 3, 3)


def test_world_state_survives_between_processes(store_file: Path) -> None:
    world = small_world(date(2026, 3, 2))
    state = closed_loop.world_state_file(store_file)
    closed_loop.advance_world(world, date(2026, 3, 2), store_file, state_file=state)
    resumed = closed_loop.load_world(store_file)
    assert resumed is not None and resumed.day == date(2026, 3, 3)
    assert resumed.step().orders.equals(world.step().orders)


def test_pre_model_demo_history_shows_static_promises_and_no_list(store_file: Path) -> None:
    outcome = closed_loop.build_demo_history(
        store_file, days=6, orders_per_day=40, train=False, end=date(2026, 3, 7), progress=False
    )
    assert outcome["start"] == "2026-03-02" and outcome["go_live"] is None
    with store.connect(store_file, read_only=True) as con:
        orders = con.execute("select count(*) from orders").fetchone()[0]
        static = con.execute("select count(*) from eta_shown where source = 'static'").fetchone()[0]
        model = con.execute("select count(*) from eta_shown where source = 'model'").fetchone()[0]
        listed = con.execute("select count(*) from triage_list").fetchone()[0]
    assert static == orders > 0 and model == 0 and listed == 0
    # The store is fed by the world from here on: a daily run advances it by one day.
    summary = daily.run_daily(
        date(2026, 3, 8),
        store_file,
        feed=closed_loop.world_feed(
            closed_loop.load_world(store_file), store_file, state_file=closed_loop.world_state_file(store_file)
        ),
    )
    assert summary["eta_source"] == "static" and summary["listed"] == 0 and summary["files_loaded"] == 4
    assert closed_loop.load_world(store_file).day == date(2026, 3, 9)


def test_feedback_tells_the_world_what_was_shown_and_worked(store_file: Path) -> None:
    import pandas as pd

    with store.transaction(store_file) as con:
        con.execute(
            "insert into eta_shown values ('O0000001', date '2026-03-03', timestamp '2026-03-05 12:00', "
            "'model', 'forecaster-v1')"
        )
        con.execute(
            "insert into triage_actions values ('a1', 'O0000002', date '2026-03-02', 'chased_carrier', "
            "null, 'sim-triage', timestamp '2026-03-03 09:00')"
        )
        con.execute(
            "insert into triage_actions values ('a2', 'O0000003', date '2026-03-02', 'false_alarm', "
            "null, 'alice', timestamp '2026-03-03 09:00')"
        )
    eta_shown, worked = closed_loop._feedback(date(2026, 3, 3), store_file)
    assert eta_shown == {"O0000001": pd.Timestamp("2026-03-05 12:00", tz="UTC")}
    assert worked == ["O0000002"]


def test_demo_refuses_a_period_without_go_live(store_file: Path) -> None:
    with pytest.raises(ConfigError, match="leaves no days after go-live"):
        closed_loop.build_demo_history(store_file, days=5, orders_per_day=10, pre_model_days=5)


def test_daily_without_a_world_ingests_what_landed_through_the_day(store_file: Path) -> None:
    folder = closed_loop.landing_dir(store_file)
    simulate.simulate_to_dir(folder, days=3, orders_per_day=30, start="2026-03-02", progress=False)
    first = daily.run_daily(date(2026, 3, 3), store_file, landing_dir=folder, retrain=False)
    # Two days of files (three Parquet files and the events' late delivery) loaded, the third waits for
    # its own run; no champion yet: static promises only. (two empty contact files have one content,
    # which loads once)
    assert first["files_loaded"] + first["files_already_loaded"] == 8
    assert first["eta_source"] == "static" and first["listed"] == 0
    again = daily.run_daily(date(2026, 3, 3), store_file, landing_dir=folder, retrain=False)
    assert again["files_loaded"] == 0 and again["files_already_loaded"] == 8
    validity = daily.monitor_validity.read_validity(None, store_file)
    # one row per quarantine reason of the batch (the feed's defects), all of one batch
    assert set(validity["rows_total"]) == {first["validity_rows"]} and validity["reason"].notna().all()
