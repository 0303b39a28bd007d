"""Scenario tests on the simulator: each drift scenario raises the right alert within 2 daily runs of its
onset, and a 30-day control run with no scenario raises no drift alert.

One warm world (six weeks, a few hundred orders a day) is simulated, ingested and given quick
champions once per session; each test works on a private copy of it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from core import config
from core.domain import MODEL_KINDS, end_of_day
from core.ingest import landing
from core.jobs import closed_loop, daily, daily_monitor, daily_settings, retraining
from core.registry import promotion, versions
from core.registry.gate import GatePolicy
from core.scoring import batch
from core.world import simulate

WORLD_START = date(2026, 6, 1)
WARM_DAYS = 42  # the world starts empty; the reference weeks must come after its warm-up
ORDERS_PER_DAY = 250
SEED = 11
DRIFT_RULES = {
    "feature_drift",
    "drift_share",
    "missing_rate_jump",
    "new_category",
    "feature_invalid",
    "prediction_drift",
    "validity_failures",
}


@dataclass(frozen=True)
class TrainedWorld:
    """A store fed by a simulated world, with champions; `next_day` is the first day not yet run."""

    store: Path
    next_day: date


def build_trained_world(root: Path) -> TrainedWorld:
    """Simulate WARM_DAYS days, ingest them, train quick champions (once per folder)."""
    path = root / "journeyops.duckdb"
    next_day = WORLD_START + timedelta(days=WARM_DAYS)
    if path.exists():
        return TrainedWorld(path, next_day)
    root.mkdir(parents=True, exist_ok=True)
    world = simulate.World(simulate.load_world_config(), seed=SEED, start=WORLD_START, orders_per_day=ORDERS_PER_DAY)
    for i in range(WARM_DAYS):
        closed_loop.advance_world(world, WORLD_START + timedelta(days=i), path)
    closed_loop.save_world(world, closed_loop.world_state_file(path))
    landing.ingest_paths([closed_loop.landing_dir(path)], store_path=path)
    with threadpool_limits(1):
        retraining.retrain(
            path,
            as_of=end_of_day(next_day - timedelta(days=1)),
            actor="test",
            policy=GatePolicy(auto_promote=True),
            max_rows=8_000,
            model_params={"max_iter": 60},
        )
    for kind in MODEL_KINDS:  # a quick model may miss the gate; the tests need a champion either way
        if versions.get_champion(kind, path) is None:
            promotion.promote(
                f"{kind}-v1", actor="test", reason="fixture", expected_champion=None, store_path=path, force=True
            )
    # The champion's reference sample and drift thresholds, built once here (every copy shares them)
    # exactly as the first daily run would build them.
    champion = batch.load_serving(next_day, path)["champion"]
    with threadpool_limits(1):
        reference = batch.load_reference(champion, end_of_day(next_day), path)
        compared, categorical = daily_monitor.drift_columns(champion, reference, reference)
        batch.load_calibration(
            champion,
            reference,
            compared,
            daily_monitor.PREDICTION_COLUMNS,
            categorical,
            daily_settings.DailySettings().monitor,
            path,
        )
    return TrainedWorld(path, next_day)


def session_world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """The session's trained world (built on first use)."""
    return build_trained_world(tmp_path_factory.getbasetemp() / "daily_world")


def copy_world(source: TrainedWorld, target_dir: Path) -> TrainedWorld:
    """A private copy of the store, its models, world state and landing files."""
    target = target_dir / source.store.name
    shutil.copy(source.store, target)
    shutil.copytree(config.models_dir(source.store), config.models_dir(target))
    shutil.copy(closed_loop.world_state_file(source.store), closed_loop.world_state_file(target))
    shutil.copytree(closed_loop.landing_dir(source.store), closed_loop.landing_dir(target))
    return TrainedWorld(target, source.next_day)


def run_days(world_copy: TrainedWorld, days: int, scenario: str | None = None) -> list[dict]:
    """Run `days` daily cycles on the copy, the scenario switched on at the first of them; as a backfill
    does, only the last day keeps Evidently's drift snapshot (its report), which is half a day's run here."""
    world = closed_loop.load_world(world_copy.store)
    assert world is not None and world.day == world_copy.next_day
    if scenario:
        world.scenarios = [simulate.Scenario(scenario, world_copy.next_day)]
    state = closed_loop.world_state_file(world_copy.store)
    return [
        daily.run_daily(
            world_copy.next_day + timedelta(days=i),
            world_copy.store,
            feed=closed_loop.world_feed(world, world_copy.store, state_file=state),
            settings=daily_settings.DailySettings(drift_report=i == days - 1),
            retrain=False,
        )
        for i in range(days)
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    return session_world(tmp_path_factory)


def alerts_of(store_path: Path) -> list[tuple[str, str, str]]:
    from core.monitor import alert_store

    frame = alert_store.read_alerts(store_path=store_path)
    return sorted(zip(frame["as_of"].astype(str), frame["rule"], frame["subject"], strict=True))


# The alert that must fire, by scenario: (rule, subject) pairs any one of which is the right signal.
EXPECTED = {
    "new_carrier": {("new_category", "carrier"), ("feature_drift", "carrier")},
    "schema_change": {("new_category", "category"), ("new_category", "payment_method")},
    # Orders pile up in the warehouse stages: the stage mix and the load move.
    "warehouse_outage": {
        ("feature_drift", c)
        for c in ("wip_warehouse", "wip_stage", "time_in_stage_h", "current_stage", "stall_limit_h", "prefix_len")
    },
    "demand_surge": {
        ("feature_drift", "wip_warehouse"),
        ("feature_drift", "wip_carrier"),
        ("feature_drift", "wip_stage"),
    },
}


# What a scenario must raise in full, beyond one of EXPECTED. A new carrier must be caught by the drift
# test of the carrier column (Evidently's Jensen-Shannon verdict: rule feature_drift), not by the
# new-category check alone, and the new value must be named.
REQUIRED = {"new_carrier": {("feature_drift", "carrier"), ("new_category", "carrier")}}


def assert_new_carrier_seen_by_the_drift_test(store_path: Path) -> None:
    """The stored drift rows of the carrier column: Evidently's Jensen-Shannon verdict drifted on a run day,
    and the configured new carrier among the values never seen in the reference."""
    from core.monitor import drift_store

    carrier = str(simulate.load_world_config().scenarios["new_carrier"]["carrier"])
    rows = drift_store.read_drift(None, store_path).query("column == 'carrier'")
    assert set(rows["method"]) == {"jensenshannon"}
    assert rows["drifted"].astype(bool).any(), rows[["as_of", "score", "threshold", "drifted"]].to_string()
    assert all(carrier in list(values) for values in rows["new_categories"]), rows["new_categories"].tolist()


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_scenario_raises_its_alert_within_two_daily_runs(scenario: str, trained: TrainedWorld, tmp_path: Path) -> None:
    copy = copy_world(trained, tmp_path)
    run_days(copy, 2, scenario)
    fired = {(rule, subject) for _, rule, subject in alerts_of(copy.store)}
    assert fired & EXPECTED[scenario], f"{scenario}: none of {EXPECTED[scenario]} in {sorted(fired)}"
    missing = REQUIRED.get(scenario, set()) - fired
    assert not missing, f"{scenario}: {sorted(missing)} did not fire; fired {sorted(fired)}"
    if scenario == "new_carrier":
        assert_new_carrier_seen_by_the_drift_test(copy.store)


def test_control_run_of_thirty_days_raises_no_drift_alert(trained: TrainedWorld, tmp_path: Path) -> None:
    copy = copy_world(trained, tmp_path)
    outcomes = run_days(copy, 30)
    assert [o["as_of_date"] for o in outcomes][-1] == copy.next_day + timedelta(days=29)
    assert all(o["listed"] > 0 and o["drift_columns"] > 20 for o in outcomes)
    drift_alerts = [a for a in alerts_of(copy.store) if a[1] in DRIFT_RULES]
    assert drift_alerts == []
