from __future__ import annotations

import json
import os
import pickle
import threading
import time
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import SVR

from core import config, store
from core.cli import main
from core.registry import promotion, registration, versions
from core.registry.artifacts import ArtifactRejectedError, sha256_file
from core.registry.gate import GatePolicy, evaluate_gate
from core.registry.versions import (
    NoChampionError,
    NoPreviousChampionError,
    NoVersionLiveError,
    PromotionConflictError,
    RegistryError,
    UnknownVersionError,
)


def fit_tiny_forecaster(seed: int = 0):
    """A Pipeline of OneHotEncoder + HistGradientBoostingRegressor fitted on 50 rows, and its rows."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"carrier": rng.choice(["dhl", "ups"], 50), "elapsed_h": rng.normal(30.0, 8.0, 50)})
    y = X["elapsed_h"] * 0.5 + (X["carrier"] == "dhl") * 6.0
    pre = ColumnTransformer([("carrier", OneHotEncoder(handle_unknown="ignore"), ["carrier"])], remainder="passthrough")
    model = Pipeline([("pre", pre), ("hgb", HistGradientBoostingRegressor(max_iter=10, min_samples_leaf=5))])
    return model.fit(X, y), X


def evaluation(cost, kind="forecaster", n=400):
    return {
        "kind": kind,
        "n": n,
        "business_cost": cost,
        "metrics": {"mae_h": cost / 2},
        "segments": {"carrier": {"dhl": {"n": 200, "business_cost": cost}}},
    }


@pytest.fixture(scope="module")
def tiny():
    return fit_tiny_forecaster()


def register(store_file, model, cost=10.0, kind="forecaster"):
    return registration.register_version(
        kind,
        model,
        training_window={"from": date(2026, 1, 1), "to": date(2026, 3, 1)},
        feature_columns=["carrier", "elapsed_h"],
        metrics={"mae_h": np.float64(cost / 2), "coverage": float("nan"), "n": np.int64(400)},
        backtest=[{"fold": 1, "mae_h": 4.0}],
        evaluation=evaluation(cost, kind),
        store_path=store_file,
    )


def champion_chain(store_file, model, n):
    """Register n forecasters and promote each in turn; returns their ids."""
    ids = []
    for i in range(n):
        version = register(store_file, model, cost=10.0 - i)
        promotion.promote(
            version.version_id,
            actor="ana",
            reason=f"step {i + 1}",
            expected_champion=ids[-1] if ids else None,
            store_path=store_file,
        )
        ids.append(version.version_id)
    return ids


def test_register_writes_the_artifact_then_a_candidate_row(store_file, tiny):
    model, _ = tiny
    first = register(store_file, model)
    second = register(store_file, model, cost=9.0)
    other = register(store_file, model, kind="stuck_classifier")
    assert [first.version_id, second.version_id, other.version_id] == [
        "forecaster-v1",
        "forecaster-v2",
        "stuck_classifier-v1",
    ]
    models_dir = config.models_dir(store_file)
    assert models_dir == store_file.parent / "journeyops_models"
    assert second.artifact_path == "forecaster/forecaster-v2.skops"
    assert sha256_file(models_dir / second.artifact_path) == second.artifact_sha256
    assert sorted(p.name for p in (models_dir / "forecaster").iterdir()) == [
        "forecaster-v1.skops",
        "forecaster-v2.skops",
    ]  # no staged leftovers
    assert first.status == "candidate" and first.is_champion is False
    assert first.training_window == {"from": "2026-01-01", "to": "2026-03-01"}
    assert first.metrics == {"mae_h": 5.0, "coverage": None, "n": 400}
    assert first.feature_columns == ["carrier", "elapsed_h"]
    assert first.evaluation["business_cost"] == 10.0
    assert first.gate is None
    assert [v.version_id for v in versions.list_versions("forecaster", store_file)] == [
        "forecaster-v1",
        "forecaster-v2",
    ]
    assert len(versions.list_versions(store_path=store_file)) == 3
    assert json.dumps(first.to_dict())


def test_staged_files_left_by_a_crash_are_cleaned_after_an_hour(store_file, tiny):
    folder = config.models_dir(store_file) / "forecaster"
    folder.mkdir(parents=True)
    old, fresh = folder / ".staged-old.skops", folder / ".staged-fresh.skops"
    for path in (old, fresh):
        path.write_bytes(b"partial dump")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    register(store_file, tiny[0])
    assert sorted(p.name for p in folder.iterdir()) == [".staged-fresh.skops", "forecaster-v1.skops"]


def test_unknown_kind_and_version(store_file, tiny):
    with pytest.raises(RegistryError, match="unknown model kind 'eta'; use one of forecaster, stuck_classifier"):
        register(store_file, tiny[0], kind="eta")
    register(store_file, tiny[0])
    with pytest.raises(UnknownVersionError, match="no model version 'forecaster-v7'"):
        versions.get_version("forecaster-v7", store_file)


def test_no_champion_before_the_first_promotion(store_file, tiny):
    register(store_file, tiny[0])
    assert versions.get_champion("forecaster", store_file) is None
    with pytest.raises(NoChampionError, match="no forecaster champion .* `python -m core retrain`"):
        versions.load_champion("forecaster", store_file)


def test_a_store_from_before_the_registry_lists_no_versions(tmp_path):
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("create table schema_version (version integer, applied_at timestamp)")
    con.close()
    assert versions.list_versions(store_path=old) == []
    assert versions.audit_log(old) == []


def test_promote_switches_the_champion_and_writes_the_audit_row(store_file, tiny):
    model, X = tiny
    v1, v2 = register(store_file, model), register(store_file, model, cost=9.0)
    promotion.promote(v1.version_id, actor="ana", reason="first model", expected_champion=None, store_path=store_file)
    promoted = promotion.promote(
        v2.version_id, actor="bo", reason="cheaper", expected_champion="forecaster-v1", store_path=store_file
    )
    assert promoted.status == "champion" and promoted.is_champion
    assert versions.get_version("forecaster-v1", store_file).status == "retired"
    champion, loaded = versions.load_champion("forecaster", store_file)
    assert champion.version_id == "forecaster-v2"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    log = versions.audit_log(store_file)
    assert [
        (r["audit_id"], r["action"], r["version_id"], r["previous_version_id"], r["actor"], r["reason"]) for r in log
    ] == [
        (1, "promote", "forecaster-v1", None, "ana", "first model"),
        (2, "promote", "forecaster-v2", "forecaster-v1", "bo", "cheaper"),
    ]
    assert log[1]["metrics"] == {"mae_h": 4.5, "coverage": None, "n": 400, "holdout_business_cost": 9.0}
    assert isinstance(log[1]["acted_at"], datetime)


def test_promote_with_a_stale_expected_champion_conflicts_and_changes_nothing(store_file, tiny):
    ids = champion_chain(store_file, tiny[0], 2)
    v3 = register(store_file, tiny[0])
    with pytest.raises(PromotionConflictError, match="champion is now forecaster-v2, not forecaster-v1 as expected"):
        promotion.promote(v3.version_id, actor="ana", reason="x", expected_champion=ids[0], store_path=store_file)
    assert versions.get_champion("forecaster", store_file).version_id == "forecaster-v2"
    assert versions.get_version("forecaster-v3", store_file).status == "candidate"
    assert len(versions.audit_log(store_file)) == 2


def test_two_promoters_racing_one_wins_one_conflicts(store_file, tiny):
    champion_chain(store_file, tiny[0], 1)
    challengers = [register(store_file, tiny[0]).version_id for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def race(version_id):
        barrier.wait()
        try:
            promotion.promote(
                version_id, actor=version_id, reason="race", expected_champion="forecaster-v1", store_path=store_file
            )
            outcomes[version_id] = "won"
        except PromotionConflictError:
            outcomes[version_id] = "conflict"

    threads = [threading.Thread(target=race, args=(v,)) for v in challengers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(v for v, o in outcomes.items() if o == "won")
    assert versions.get_champion("forecaster", store_file).version_id == winner
    assert [r["version_id"] for r in versions.audit_log(store_file)] == ["forecaster-v1", winner]


def test_promoting_the_champion_again_is_refused(store_file, tiny):
    champion_chain(store_file, tiny[0], 1)
    with pytest.raises(RegistryError, match="forecaster-v1 is already the forecaster champion"):
        promotion.promote(
            "forecaster-v1", actor="a", reason="x", expected_champion="forecaster-v1", store_path=store_file
        )
    with pytest.raises(RegistryError, match=r"give a reason \(--reason\)"):
        promotion.promote("forecaster-v1", actor="a", reason=" ", expected_champion=None, store_path=store_file)


def test_rollback_goes_back_one_promotion_at_a_time(store_file, tiny):
    champion_chain(store_file, tiny[0], 3)
    assert promotion.rollback("forecaster", actor="ana", reason="v3 drifts", store_path=store_file).version_id == (
        "forecaster-v2"
    )
    assert promotion.rollback("forecaster", actor="ana", reason="v2 too", store_path=store_file).version_id == (
        "forecaster-v1"
    )
    with pytest.raises(NoPreviousChampionError, match="forecaster-v1 replaced no earlier forecaster champion"):
        promotion.rollback("forecaster", actor="ana", reason="again", store_path=store_file)
    statuses = {v.version_id: v.status for v in versions.list_versions("forecaster", store_file)}
    assert statuses == {"forecaster-v1": "champion", "forecaster-v2": "retired", "forecaster-v3": "retired"}
    last = versions.audit_log(store_file)[-1]
    assert (last["action"], last["version_id"], last["previous_version_id"], last["reason"]) == (
        "rollback",
        "forecaster-v1",
        "forecaster-v2",
        "v2 too",
    )


def test_rollback_to_the_version_live_on_a_date(store_file, tiny, monkeypatch):
    moments = iter(
        [
            datetime(2026, 3, 1, 10),
            datetime(2026, 3, 5, 9),
            datetime(2026, 3, 5, 15),
            datetime(2026, 3, 10, 8),
            datetime(2026, 3, 12, 8),
        ]
    )
    clock = {"now": datetime(2026, 3, 1)}
    monkeypatch.setattr(store, "utcnow", lambda: clock["now"])
    ids = []
    for i in range(4):
        version = register(store_file, tiny[0], cost=10.0 - i)
        clock["now"] = next(moments)
        promotion.promote(
            version.version_id,
            actor="ana",
            reason="r",
            expected_champion=ids[-1] if ids else None,
            store_path=store_file,
        )
        ids.append(version.version_id)
    with pytest.raises(NoVersionLiveError, match="no forecaster version was champion on 2026-02-28"):
        promotion.rollback("forecaster", actor="ana", reason="r", to_date=date(2026, 2, 28), store_path=store_file)
    with pytest.raises(RegistryError, match="forecaster-v4 was the forecaster champion on 2026-03-11 and still is"):
        promotion.rollback("forecaster", actor="ana", reason="r", to_date=date(2026, 3, 11), store_path=store_file)
    clock["now"] = next(moments)
    # on 5 March v2 went live in the morning and v3 in the afternoon: the end of the day counts
    back = promotion.rollback(
        "forecaster", actor="ana", reason="incident", to_date=date(2026, 3, 5), store_path=store_file
    )
    assert back.version_id == "forecaster-v3"
    back = promotion.rollback(
        "forecaster", actor="ana", reason="older", to_date=date(2026, 3, 3), store_path=store_file
    )
    assert back.version_id == "forecaster-v1"


def test_gate_outcomes_reject_await_approval_or_promote(store_file, tiny):
    model = tiny[0]
    champion_chain(store_file, model, 1)  # cost 10
    baseline = evaluation(20.0)
    worse = register(store_file, model, cost=9.9)  # only 1% cheaper
    decision = evaluate_gate(worse.evaluation, evaluation(10.0), baseline, GatePolicy(auto_promote=True), live=True)
    rejected = promotion.record_gate(
        worse.version_id, decision, expected_champion="forecaster-v1", store_path=store_file
    )
    assert rejected.status == "rejected" and rejected.gate["passed"] is False
    with pytest.raises(RegistryError, match="forecaster-v2 failed the quality gate .*margin: FAILED"):
        promotion.promote(
            worse.version_id, actor="ana", reason="x", expected_champion="forecaster-v1", store_path=store_file
        )

    better = register(store_file, model, cost=8.0)
    decision = evaluate_gate(better.evaluation, evaluation(10.0), baseline, GatePolicy(auto_promote=False))
    pending = promotion.record_gate(
        better.version_id, decision, expected_champion="forecaster-v1", store_path=store_file
    )
    assert pending.status == "pending_approval" and not pending.is_champion
    approved = promotion.promote(
        better.version_id,
        actor="lead",
        reason="approved after review",
        expected_champion="forecaster-v1",
        store_path=store_file,
    )
    assert approved.status == "champion" and approved.gate["action"] == "pending_approval"

    best = registration.register_and_gate(
        "forecaster",
        model,
        training_window=None,
        feature_columns=["carrier"],
        metrics={},
        backtest=None,
        evaluation=evaluation(7.0),
        decision=evaluate_gate(evaluation(7.0), evaluation(8.0), baseline, GatePolicy(auto_promote=True)),
        expected_champion="forecaster-v3",
        store_path=store_file,
    )
    assert best.version_id == "forecaster-v4" and best.is_champion
    last = versions.audit_log(store_file)[-1]
    assert (last["actor"], last["previous_version_id"]) == ("retrain", "forecaster-v3")
    assert last["gate"]["reasons"][2].startswith("margin: ok — challenger cost 7.0000 vs champion 8.0000")

    forced = promotion.promote(
        worse.version_id,
        actor="ana",
        reason="incident",
        expected_champion="forecaster-v4",
        store_path=store_file,
        force=True,
    )
    assert forced.is_champion
    assert versions.audit_log(store_file)[-1]["reason"] == "incident (forced past a failed gate)"


def test_auto_promotion_against_a_champion_that_changed_keeps_the_verdict_only(store_file, tiny):
    ids = champion_chain(store_file, tiny[0], 2)
    late = register(store_file, tiny[0], cost=5.0)
    decision = evaluate_gate(late.evaluation, evaluation(10.0), evaluation(20.0), GatePolicy(auto_promote=True))
    with pytest.raises(PromotionConflictError, match="champion is now forecaster-v2"):
        promotion.record_gate(late.version_id, decision, expected_champion=ids[0], store_path=store_file)
    after = versions.get_version(late.version_id, store_file)
    assert (after.status, after.gate["passed"]) == ("candidate", True)
    assert versions.get_champion("forecaster", store_file).version_id == "forecaster-v2"


def test_a_person_rejects_a_pending_version(store_file, tiny):
    champion_chain(store_file, tiny[0], 1)
    v2 = register(store_file, tiny[0], cost=5.0)
    promotion.record_gate(
        v2.version_id,
        evaluate_gate(v2.evaluation, evaluation(10.0), evaluation(20.0), GatePolicy()),
        expected_champion="forecaster-v1",
        store_path=store_file,
    )
    assert promotion.reject(v2.version_id, actor="lead", reason="peak season: wait", store_path=store_file).status == (
        "rejected"
    )
    last = versions.audit_log(store_file)[-1]
    assert (last["action"], last["version_id"], last["previous_version_id"]) == (
        "reject",
        "forecaster-v2",
        "forecaster-v1",
    )
    with pytest.raises(RegistryError, match="forecaster-v1 is champion; only pending or candidate"):
        promotion.reject("forecaster-v1", actor="lead", reason="x", store_path=store_file)


def _replace_artifact(store_file, version, data: bytes, *, update_sha: bool):
    path = versions.artifact_file(version, store_file)
    path.write_bytes(data)
    if update_sha:  # as if the registry row had been rewritten too: the type check must still stop it
        with store.transaction(store_file) as con:
            con.execute(
                "update model_versions set artifact_sha256 = $sha where version_id = $v",
                {"sha": sha256_file(path), "v": version.version_id},
            )


def _svr_skops_bytes(tmp_path):
    sio.dump(SVR().fit([[0.0], [1.0]], [0.0, 1.0]), tmp_path / "svr.skops")
    return (tmp_path / "svr.skops").read_bytes()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("pickle", "is not a skops file"),
        ("untrusted", r"names untrusted type\(s\) sklearn.svm._classes.SVR"),
        ("flipped", "failed its checksum"),
    ],
)
def test_a_tampered_challenger_is_refused_and_the_champion_keeps_serving(store_file, tiny, tmp_path, tamper, message):
    model, X = tiny
    champion_chain(store_file, model, 1)
    challenger = register(store_file, model, cost=5.0)
    if tamper == "pickle":
        _replace_artifact(store_file, challenger, pickle.dumps(model), update_sha=True)
    elif tamper == "untrusted":
        _replace_artifact(store_file, challenger, _svr_skops_bytes(tmp_path), update_sha=True)
    else:
        data = bytearray(versions.artifact_file(challenger, store_file).read_bytes())
        data[100] ^= 0xFF
        _replace_artifact(store_file, challenger, bytes(data), update_sha=False)
    with pytest.raises(ArtifactRejectedError, match=message):
        versions.load_version(challenger.version_id, store_file)
    with pytest.raises(ArtifactRejectedError, match=message):
        promotion.promote(
            challenger.version_id, actor="ana", reason="x", expected_champion="forecaster-v1", store_path=store_file
        )
    champion, served = versions.load_champion("forecaster", store_file)
    assert champion.version_id == "forecaster-v1"
    np.testing.assert_array_equal(served.predict(X), model.predict(X))
    assert len(versions.audit_log(store_file)) == 1


def test_cli_models_promote_rollback_and_their_errors(store_file, tiny, capsys):
    champion_chain(store_file, tiny[0], 1)
    register(store_file, tiny[0], cost=5.0)
    s = ["--store", str(store_file)]

    assert main(["models", "--json", *s]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["champions"] == {"forecaster": "forecaster-v1"}
    assert [(v["version_id"], v["status"], v["is_champion"]) for v in listing["versions"]] == [
        ("forecaster-v1", "champion", True),
        ("forecaster-v2", "candidate", False),
    ]
    assert listing["versions"][1]["metrics"]["mae_h"] == 2.5

    assert main(["promote", "forecaster-v2", "--reason", "cheaper", "--actor", "ana", *s]) == 0
    assert capsys.readouterr().out == "forecaster-v2 is now the forecaster champion (was forecaster-v1)\n"
    assert main(["rollback", "--kind", "forecaster", "--reason", "bad week", "--json", *s]) == 0
    assert json.loads(capsys.readouterr().out)["version_id"] == "forecaster-v1"
    assert main(["model-audit", "--json", *s]) == 0
    assert [r["action"] for r in json.loads(capsys.readouterr().out)] == ["promote", "promote", "rollback"]

    errors = [
        (["promote", "forecaster-v9", "--reason", "x"], 2, "error: no model version 'forecaster-v9'"),
        (
            ["promote", "forecaster-v2", "--reason", "x", "--expect-champion", "forecaster-v2"],
            3,
            "error: the forecaster champion is now forecaster-v1, not forecaster-v2 as expected",
        ),
        (
            ["rollback", "--kind", "forecaster", "--reason", "x"],
            2,
            "error: forecaster-v1 replaced no earlier forecaster champion",
        ),
        (
            ["rollback", "--kind", "forecaster", "--to-date", "2020-01-01", "--reason", "x"],
            2,
            "error: no forecaster version was champion on 2020-01-01",
        ),
        (
            ["rollback", "--kind", "forecaster", "--to-date", "1 May", "--reason", "x"],
            2,
            "error: --to-date '1 May' is not a date; use YYYY-MM-DD",
        ),
    ]
    for argv, code, start in errors:
        assert main([*argv, *s]) == code
        err = capsys.readouterr().err
        assert err.startswith(start), err
        assert len(err.strip().splitlines()) == 1
