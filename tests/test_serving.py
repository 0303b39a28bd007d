"""core.scoring.serving: stored forecasts, the at-risk list, the champion cache, online scoring = batch scoring.

`trained_store` (also used by the API tests) builds, once per session, a small simulated world with
quickly trained champions and the daily job's tables filled as schema_006 defines them.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from core import config, features, store
from core.domain import MODEL_KINDS
from core.models import estimators, evaluate, training_data
from core.registry import promotion, registration
from core.registry import versions as registry
from core.scoring import checked_files, forecasts, serving

DAYS = 14
ORDERS_PER_DAY = 60
COST_OF_STUCK = 40.0


@dataclass(frozen=True)
class TrainedStore:
    """A store with champions, a spare forecaster candidate and one morning's predictions and list."""

    path: Path
    as_of_at: datetime
    as_of_date: date
    candidate_forecaster: str


def _fit(frame: pd.DataFrame, max_iter: int) -> tuple[Any, Any, list[str]]:
    has_remaining = frame["remaining_h"].notna()
    categorical, numeric, _ = training_data.select_columns(frame, has_remaining)
    x = training_data.prepare_features(frame, categorical, numeric)
    forecaster = estimators.make_forecaster(categorical, numeric, max_iter=max_iter, min_samples_leaf=20)
    forecaster.fit(x[has_remaining], frame.loc[has_remaining, "remaining_h"].to_numpy())
    labelled = frame["stuck_label"].notna()
    classifier = estimators.make_classifier(categorical, numeric, max_iter=max_iter, min_samples_leaf=20)
    classifier.fit(x[labelled], frame.loc[labelled, "stuck_label"].astype(int).to_numpy())
    return forecaster, classifier, categorical + numeric


def _register(kind: str, model: Any, columns: list[str], path: Path) -> str:
    version = registration.register_version(
        kind,
        model,
        training_window=["fixture"],
        feature_columns=columns,
        metrics={},
        backtest={},
        evaluation=None,
        store_path=path,
    )
    return version.version_id


def batch_scores(path: Path, as_of_at: datetime) -> pd.DataFrame:
    """The batch path: every open order's features at as_of_at, scored by the champions (per order_id)."""
    frame = features.build_prefix_features(path, mode="single", as_of=as_of_at, with_targets=False)
    _, forecaster = registry.load_champion("forecaster", path)
    _, classifier = registry.load_champion("stuck_classifier", path)
    scores = evaluate.predict_forecast(forecaster, frame)
    scores["stuck_prob"] = evaluate.predict_stuck(classifier, frame).to_numpy()
    scores["order_id"] = frame["order_id"].to_numpy()
    scores["current_stage"] = frame["current_stage"].to_numpy()
    scores["elapsed_h"] = frame["elapsed_h"].to_numpy()
    return scores.set_index("order_id")


def _write_daily_tables(path: Path, as_of_at: datetime) -> None:
    """What the daily job writes (schema_006): champion and challenger predictions, the triage list."""
    scores = batch_scores(path, as_of_at).reset_index()
    versions = {k: registry.get_champion(k, path).version_id for k in MODEL_KINDS}
    now = store.utcnow()

    def predictions(at: datetime, role: str, shift_h: float) -> pd.DataFrame:
        rows = scores.assign(
            as_of_date=at.date(),
            as_of_at=at,
            role=role,
            forecaster_version=versions["forecaster"],
            classifier_version=versions["stuck_classifier"],
            p10_h=scores["p10_h"] + shift_h,
            p50_h=scores["p50_h"] + shift_h,
            p90_h=scores["p90_h"] + shift_h,
            scored_at=now,
        )
        for q in ("p10", "p50", "p90"):
            rows[f"eta_{q}_at"] = at + pd.to_timedelta(rows[f"{q}_h"], unit="h")
        return rows

    earlier = as_of_at - timedelta(days=1)
    all_predictions = pd.concat(
        [
            predictions(as_of_at, "champion", 0.0),
            predictions(as_of_at, "challenger", 500.0),
            predictions(earlier, "champion", 1000.0),
        ]
    )
    ranked = (
        scores.assign(expected_cost=scores["stuck_prob"] * COST_OF_STUCK)
        .sort_values(["expected_cost", "order_id"], ascending=[False, True])
        .head(30)
        .reset_index(drop=True)
    )
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["held_out"] = ranked["rank"] % 4 == 0
    ranked["reasons"] = [
        json.dumps([{"feature": "stall_ratio", "effect": 1.5, "text": f"reason of {o}"}]) for o in ranked["order_id"]
    ]
    for q in ("p10", "p50", "p90"):
        ranked[f"eta_{q}_at"] = as_of_at + pd.to_timedelta(ranked[f"{q}_h"], unit="h")
    ranked["as_of_date"] = as_of_at.date()
    ranked["created_at"] = now
    with store.transaction(path) as con:
        con.register("new_predictions", all_predictions)
        con.execute(
            "insert into predictions by name select as_of_date, as_of_at, order_id, role, forecaster_version, "
            "classifier_version, current_stage, elapsed_h, p10_h, p50_h, p90_h, eta_p10_at, eta_p50_at, "
            "eta_p90_at, stuck_prob, scored_at from new_predictions"
        )
        con.register("new_list", ranked)
        con.execute(
            "insert into triage_list by name select as_of_date, order_id, rank, expected_cost, stuck_prob, "
            "held_out, reasons, eta_p10_at, eta_p50_at, eta_p90_at, created_at from new_list"
        )


def build_trained_store(path: Path) -> TrainedStore:
    """Simulate, ingest, train quick champions, register a spare candidate, fill the daily tables."""
    from core.cli import main

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        args = [
            "demo",
            "--store",
            str(path),
            "--days",
            str(DAYS),
            "--orders-per-day",
            str(ORDERS_PER_DAY),
            "--skip-training",
        ]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(args) == 0
        with store.connect(path, read_only=True) as con:
            last = pd.Timestamp(con.execute("select max(event_ts) from events").fetchone()[0])
        as_of_at = (last.floor("D") - pd.Timedelta(days=2) + pd.Timedelta(hours=10)).to_pydatetime()
        # One thread: OpenMP on a shared 2-core machine makes a tiny fit 50x slower.
        with threadpool_limits(1):
            frame = training_data.build_training_frame(path, as_of_at, every_h=12)
            forecaster, classifier, columns = _fit(frame, max_iter=25)
            spare, _, _ = _fit(frame, max_iter=5)
            for kind, model in (("forecaster", forecaster), ("stuck_classifier", classifier)):
                version_id = _register(kind, model, columns, path)
                promotion.promote(version_id, actor="test", reason="fixture", expected_champion=None, store_path=path)
            _register("forecaster", spare, columns, path)
            _write_daily_tables(path, as_of_at)
        (path.parent / "as_of.txt").write_text(as_of_at.isoformat())
    as_of_at = datetime.fromisoformat((path.parent / "as_of.txt").read_text())
    return TrainedStore(path, as_of_at, as_of_at.date(), "forecaster-v2")


def trained_store(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    """The session's trained store (built on first use)."""
    return build_trained_store(tmp_path_factory.getbasetemp() / "api_world" / "journeyops.duckdb")


def copy_store(source: Path, target_dir: Path) -> Path:
    """A private copy of a store and its models, for a test that changes it."""
    target = target_dir / source.name
    shutil.copy(source, target)
    shutil.copytree(config.models_dir(source), config.models_dir(target))
    return target


def stored_journey(path: Path, order_id: str, as_of_at: datetime) -> serving.Journey:
    """An order as the store holds it: attributes and events up to as_of_at."""
    with store.connect(path, read_only=True) as con:
        order = con.execute("select * from orders where order_id = $o", {"o": order_id}).df().iloc[0]
        events = con.execute(
            "select event_id, stage, event_ts from events where order_id = $o and event_ts <= $a",
            {"o": order_id, "a": as_of_at},
        ).df()
    attributes = {name: serving.plain_value(order[name]) for name in serving.ORDER_FIELDS}
    journey_events = [
        serving.JourneyEvent(e.stage, pd.Timestamp(e.event_ts).to_pydatetime(), e.event_id) for e in events.itertuples()
    ]
    return serving.Journey(order_id, journey_events, attributes)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    return trained_store(tmp_path_factory)


@pytest.fixture(scope="module")
def batch(world: TrainedStore) -> pd.DataFrame:
    with threadpool_limits(1):
        return batch_scores(world.path, world.as_of_at)


def test_online_score_equals_batch_on_simulated_orders(world, batch):
    champions = serving.ChampionCache(world.path).get()
    order_ids = batch.index.to_series().sample(12, random_state=3)
    with threadpool_limits(1):
        for order_id in order_ids:
            online = serving.score_journey(
                stored_journey(world.path, order_id, world.as_of_at), champions, world.path, world.as_of_at
            )
            expected = batch.loc[order_id]
            for column in ("p10_h", "p50_h", "p90_h", "stuck_prob", "elapsed_h"):
                assert online[column] == pytest.approx(expected[column], rel=1e-9, abs=1e-9), (order_id, column)
            assert online["current_stage"] == expected["current_stage"]
            assert online["eta_p50_at"] == world.as_of_at + timedelta(hours=online["p50_h"])


def test_online_features_equal_batch_features_including_load(world):
    frame = features.build_prefix_features(world.path, mode="single", as_of=world.as_of_at, with_targets=False)
    busiest = frame.sort_values(["wip_stage", "order_id"]).iloc[-1]
    online = serving.build_journey_features(
        stored_journey(world.path, busiest["order_id"], world.as_of_at), world.as_of_at, world.path
    )
    assert len(online) == 1
    for column in (
        "wip_stage",
        "wip_warehouse",
        "wip_carrier",
        "wip_all",
        "events_last_24h",
        "prefix_len",
        "time_in_stage_h",
        "to_promise_h",
    ):
        assert online.iloc[0][column] == busiest[column], column
    assert busiest["wip_stage"] > 1


def test_online_frame_knows_the_batch_count_columns(world):
    frame = features.build_prefix_features(world.path, mode="single", as_of=world.as_of_at, with_targets=False)
    batch_counts = {c for c in frame.columns if c.startswith(features.ACTIVITY_PREFIX)}
    order_id = frame.sort_values(["prefix_len", "order_id"])["order_id"].iloc[0]
    online = serving.build_journey_features(
        stored_journey(world.path, order_id, world.as_of_at), world.as_of_at, world.path
    )
    assert set(online.attrs["batch_count_columns"]) == batch_counts
    # The shortest journey lacks most activities: online they count 0 (as in the batch), not missing.
    completed = serving._complete_counts(online, online.attrs["batch_count_columns"])
    expected = frame.set_index("order_id").loc[order_id, sorted(batch_counts)]
    assert completed.iloc[0][sorted(batch_counts)].tolist() == expected.tolist()
    assert serving._batch_count_columns(pd.DataFrame({"stage": list("abc"), "events": [1, 3, 2]})) == [
        "count__a",
        "count__b",
        "count__c",
    ]


def test_posted_journey_replaces_the_stored_one(world, batch):
    order_id = batch.index[0]
    journey = stored_journey(world.path, order_id, world.as_of_at)
    first = journey.events[0]
    # The same order posted with only its first event: it is earlier in its journey than the store says.
    short = serving.Journey(order_id, [first], journey.attributes)
    online = serving.build_journey_features(short, world.as_of_at, world.path)
    assert online.iloc[0]["prefix_len"] == 1
    assert online.iloc[0]["current_stage"] == first.stage


def test_a_new_order_is_scored_in_the_store_context(world):
    champions = serving.ChampionCache(world.path).get()
    journey = serving.Journey(
        "NEW-1",
        [
            serving.JourneyEvent("placed", world.as_of_at - timedelta(hours=3)),
            serving.JourneyEvent("payment_confirmed", world.as_of_at - timedelta(hours=1)),
        ],
        {"warehouse": "WH-North", "carrier": "carrier_a", "order_value": 50.0, "items": 2},
    )
    result = serving.score_journey(journey, champions, world.path, world.as_of_at)
    assert result["order_id"] == "NEW-1"
    assert result["current_stage"] == "payment_confirmed"
    assert result["elapsed_h"] == pytest.approx(3.0)
    assert 0.0 <= result["stuck_prob"] <= 1.0
    assert result["p10_h"] <= result["p50_h"] <= result["p90_h"]
    assert result["forecaster_version"] == "forecaster-v1"


def test_an_ended_journey_or_one_after_as_of_is_not_scorable(world):
    champions = serving.ChampionCache(world.path).get()
    at = world.as_of_at
    ended = serving.Journey(
        "X",
        [
            serving.JourneyEvent("placed", at - timedelta(days=2)),
            serving.JourneyEvent("delivered", at - timedelta(days=1)),
        ],
    )
    with pytest.raises(serving.NotScorableError, match="has ended"):
        serving.score_journey(ended, champions, world.path, at)
    later = serving.Journey("Y", [serving.JourneyEvent("placed", at + timedelta(hours=1))])
    with pytest.raises(serving.NotScorableError, match="no event at or before"):
        serving.score_journey(later, champions, world.path, at)
    with pytest.raises(serving.NotScorableError, match="no events"):
        serving.build_journey_features(serving.Journey("Z", []), at, world.path)


def test_default_as_of_is_the_later_of_the_journey_and_the_store(world):
    with store.connect(world.path, read_only=True) as con:
        last = pd.Timestamp(con.execute("select max(event_ts) from events").fetchone()[0]).to_pydatetime()
    early = serving.Journey("E", [serving.JourneyEvent("placed", last - timedelta(days=3))])
    late = serving.Journey("L", [serving.JourneyEvent("placed", last + timedelta(hours=5))])
    assert serving.default_as_of(early, world.path) == last
    assert serving.default_as_of(late, world.path) == last + timedelta(hours=5)


def test_read_forecast_is_the_latest_champion_row_with_reasons(world, batch):
    with store.connect(world.path, read_only=True) as con:
        listed = con.execute("select order_id, held_out from triage_list order by rank").df()
    shown, held = listed[~listed.held_out].order_id.iloc[0], listed[listed.held_out].order_id.iloc[0]
    row = forecasts.read_forecast(shown, world.path)
    assert row["as_of_at"] == world.as_of_at
    assert row["p50_h"] == pytest.approx(batch.loc[shown, "p50_h"])  # not the challenger's, not yesterday's
    assert row["forecaster_version"] == "forecaster-v1"
    assert row["reasons"] == [{"feature": "stall_ratio", "effect": 1.5, "text": f"reason of {shown}"}]
    assert forecasts.read_forecast(held, world.path)["reasons"] == []
    assert forecasts.read_forecast("no-such-order", world.path) is None


def test_read_at_risk_excludes_held_out_and_filters(world):
    rows = forecasts.read_at_risk(world.path, limit=500)
    assert [r["rank"] for r in rows] == [r for r in range(1, 31) if r % 4 != 0]
    assert all(r["as_of_date"] == world.as_of_date for r in rows)
    assert [r["rank"] for r in forecasts.read_at_risk(world.path, limit=3)] == [1, 2, 3]
    carrier = rows[0]["carrier"]
    assert {r["carrier"] for r in forecasts.read_at_risk(world.path, carrier=carrier)} == {carrier}
    assert forecasts.read_at_risk(world.path, as_of_date=world.as_of_date - timedelta(days=5)) == []
    threshold = rows[2]["stuck_prob"]
    assert all(r["stuck_prob"] >= threshold for r in forecasts.read_at_risk(world.path, min_stuck_prob=threshold))


def test_champion_cache_reloads_after_promotion_and_rollback(world, tmp_path):
    path = copy_store(world.path, tmp_path)
    clock = [0.0]
    cache = serving.ChampionCache(path, check_every_s=1.0, clock=lambda: clock[0])
    assert cache.get().forecaster_version == "forecaster-v1"
    promotion.promote(
        world.candidate_forecaster,
        actor="test",
        reason="reload test",
        expected_champion="forecaster-v1",
        store_path=path,
    )
    assert cache.get().forecaster_version == "forecaster-v1"  # within the check interval
    clock[0] = 1.5
    assert cache.get().forecaster_version == world.candidate_forecaster
    promotion.rollback("forecaster", actor="test", reason="reload test", store_path=path)
    clock[0] = 3.0
    assert cache.get().forecaster_version == "forecaster-v1"


def test_no_champion_or_no_tables_is_unavailable(tmp_path):
    path = tmp_path / "empty.duckdb"
    with store.connect(path):
        pass
    with pytest.raises(serving.ServingUnavailableError, match="no forecaster and no stuck_classifier champion"):
        serving.ChampionCache(path).get()
    assert forecasts.read_forecast("A", path) is None
    assert forecasts.check_ready(path) == {"predictions": 0, "triage_rows": 0, "champions": 0}


def test_forecast_cache_serves_memory_and_reloads_when_the_store_changes(world, tmp_path):
    path = copy_store(world.path, tmp_path)
    clock = [0.0]
    cache = forecasts.ForecastCache(path, check_every_s=1.0, clock=lambda: clock[0])
    with store.connect(path, read_only=True) as con:
        order_ids = [r[0] for r in con.execute("select distinct order_id from predictions order by 1").fetchall()]
    for order_id in order_ids[:25]:
        assert cache.get(order_id) == forecasts.read_forecast(order_id, path)
    assert cache.get("no-such-order") is None
    order_id = order_ids[0]
    with store.transaction(path) as con:
        con.execute(
            "update predictions set p50_h = 123.5 where order_id = $o and role = 'champion' and as_of_at = $at",
            {"o": order_id, "at": world.as_of_at},
        )
    assert cache.get(order_id)["p50_h"] != 123.5  # not looked at again within the interval
    clock[0] = 2.0
    assert cache.get(order_id)["p50_h"] == 123.5
    fingerprint = forecasts.store_fingerprint(path)
    assert forecasts.store_fingerprint(path) == fingerprint


def test_forecast_cache_in_the_background_answers_from_the_rows_it_has(world, tmp_path):
    path = copy_store(world.path, tmp_path)
    clock = [0.0]
    cache = forecasts.ForecastCache(path, check_every_s=1.0, clock=lambda: clock[0], background=True)
    order_id = forecasts.read_at_risk(path, limit=1)[0]["order_id"]
    first = cache.get(order_id)  # the first load is synchronous
    with store.transaction(path) as con:
        con.execute(
            "update predictions set p50_h = 77.25 where order_id = $o and role = 'champion' and as_of_at = $at",
            {"o": order_id, "at": world.as_of_at},
        )
    clock[0] = 2.0
    assert cache.get(order_id)["p50_h"] == first["p50_h"]  # the reload runs beside this request
    deadline = time.monotonic() + 10
    while cache.get(order_id)["p50_h"] != 77.25 and time.monotonic() < deadline:
        clock[0] += 2.0
        time.sleep(0.02)
    assert cache.get(order_id)["p50_h"] == 77.25


def test_online_reasons_are_the_batch_lists_reasons(world, tmp_path):
    # One explainer: an order scored online gets the reasons the at-risk list gives it, against the
    # same typical values (the champions' reference sample), and none before a reference exists.
    from core.scoring import batch as batch_scoring

    path = tmp_path / "journeyops.duckdb"
    shutil.copyfile(world.path, path)
    shutil.copytree(config.models_dir(world.path), config.models_dir(path))
    champions = serving.ChampionCache(path).get()
    order_id = sorted(batch_scores(path, world.as_of_at).index)[0]
    journey = stored_journey(path, order_id, world.as_of_at)
    assert serving.score_journey(journey, champions, path, world.as_of_at)["reasons"] == []

    frame = features.build_prefix_features(path, mode="single", as_of=world.as_of_at, with_targets=False)
    models = batch_scoring.ServingModels(
        "champion",
        champions.forecaster_version,
        champions.classifier_version,
        champions.forecaster,
        champions.classifier,
    )
    reference = batch_scoring.reference_file(models, path)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    checked_files.write_checked(reference, buffer.getvalue())  # as the daily run writes it
    categorical, numeric = batch_scoring.model_inputs(champions.classifier)
    typical = batch_scoring.typical_values(frame, categorical, numeric)
    listed = frame[frame["order_id"] == order_id].reset_index(drop=True)
    with threadpool_limits(1):
        expected = batch_scoring.explain_stuck(champions.classifier, listed, typical)[0]
        online = serving.score_journey(journey, champions, path, world.as_of_at)["reasons"]
    assert expected and online == expected
