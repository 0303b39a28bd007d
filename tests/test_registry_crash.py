"""A process killed (SIGKILL) in the middle of a retrain or a promotion leaves a consistent registry.

Each test pauses a real subprocess at the worst moment through $JOURNEYOPS_PAUSE_AT, kills it, and
checks from a fresh process that the champion is the old one or the new one, never none or half,
that the audit log agrees with the champion pointer, and that the store still opens for writing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from core import config
from core.registry import promotion, versions
from tests.conftest import REPO_ROOT
from tests.test_registry import champion_chain, fit_tiny_forecaster, register

# Registers a fresh forecaster and gates it with auto-promotion on: what `retrain` does per model.
RETRAIN_SCRIPT = textwrap.dedent("""
    import sys
    from core.registry import registration
    from core.registry.gate import GatePolicy, evaluate_gate
    from tests.test_registry import evaluation, fit_tiny_forecaster
    model, _ = fit_tiny_forecaster(seed=3)
    decision = evaluate_gate(evaluation(1.0), evaluation(10.0), evaluation(20.0), GatePolicy(auto_promote=True))
    version = registration.register_and_gate(
        "forecaster", model, training_window=None, feature_columns=["carrier", "elapsed_h"], metrics={},
        backtest=None, evaluation=evaluation(1.0), decision=decision, expected_champion=sys.argv[1],
    )
    print(version.version_id, version.status)
""")

# Runs in a fresh process after the kill: opens the store for writing (replaying the WAL), then
# reports the champion pointer, the statuses, the audit log and whether the champion's artifact is
# intact (its sha256; a full load would import scikit-learn in every check and add seconds each).
INSPECT_SCRIPT = textwrap.dedent("""
    import json
    from core import store
    from core.registry import versions as registry
    from core.registry.artifacts import sha256_file
    with store.connect():
        pass
    champion = registry.get_champion("forecaster")
    intact = champion is not None and sha256_file(registry.artifact_file(champion)) == champion.artifact_sha256
    print(json.dumps({
        "champion": champion.version_id if champion else None,
        "champion_intact": intact,
        "statuses": {v.version_id: v.status for v in registry.list_versions("forecaster")},
        "audit": [[r["action"], r["version_id"], r["previous_version_id"]] for r in registry.audit_log()],
    }))
""")


def subprocess_env(store_file, pause_at=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYOPS_")}
    env["JOURNEYOPS_STORE"] = str(store_file)
    env["PYTHONPATH"] = str(REPO_ROOT)
    if pause_at:
        env["JOURNEYOPS_PAUSE_AT"] = pause_at
        env["JOURNEYOPS_PAUSE_S"] = "120"
    return env


def kill_when_paused(argv, store_file, point):
    """Start argv, wait until it reports it is paused at `point`, SIGKILL it; return its stderr so far."""
    proc = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=subprocess_env(store_file, point),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(90, proc.kill)  # never hang the suite if the pause is never reached
    watchdog.start()
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.strip() == f"journeyops: paused at {point}":
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
    assert seen and seen[-1].strip() == f"journeyops: paused at {point}", "".join(seen)
    assert proc.returncode == -signal.SIGKILL
    return "".join(seen)


def inspect(store_file):
    done = subprocess.run(
        [sys.executable, "-c", INSPECT_SCRIPT],
        cwd=REPO_ROOT,
        env=subprocess_env(store_file),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    # the invariants every crash must keep
    champions = [v for v, s in state["statuses"].items() if s == "champion"]
    changes = [row for row in state["audit"] if row[0] in versions.CHAMPION_ACTIONS]
    assert state["champion"] is not None and state["champion_intact"] is True
    assert champions == [state["champion"]]
    assert changes[-1][1] == state["champion"]
    return state


def cli(*args):
    return [sys.executable, "-m", "core", *args]


@pytest.fixture
def two_versions(store_file):
    """forecaster-v1 champion, forecaster-v2 candidate."""
    model, _ = fit_tiny_forecaster()
    champion_chain(store_file, model, 1)
    register(store_file, model, cost=5.0)
    return store_file


def test_kill_inside_the_promotion_transaction_keeps_the_old_champion(two_versions):
    store_file = two_versions
    kill_when_paused(cli("promote", "forecaster-v2", "--reason", "cheaper"), store_file, "promote:in_transaction")
    state = inspect(store_file)
    assert state["champion"] == "forecaster-v1"
    assert state["statuses"] == {"forecaster-v1": "champion", "forecaster-v2": "candidate"}
    assert state["audit"] == [["promote", "forecaster-v1", None]]
    # nothing is wedged: the same promotion now goes through
    promotion.promote(
        "forecaster-v2", actor="ana", reason="cheaper", expected_champion="forecaster-v1", store_path=store_file
    )
    assert versions.get_champion("forecaster", store_file).version_id == "forecaster-v2"
    assert [r["version_id"] for r in versions.audit_log(store_file)] == ["forecaster-v1", "forecaster-v2"]


def test_kill_right_after_the_promotion_commit_keeps_the_new_champion(two_versions):
    store_file = two_versions
    kill_when_paused(cli("promote", "forecaster-v2", "--reason", "cheaper"), store_file, "promote:after_commit")
    state = inspect(store_file)
    assert state["champion"] == "forecaster-v2"
    assert state["audit"] == [["promote", "forecaster-v1", None], ["promote", "forecaster-v2", "forecaster-v1"]]


def test_kill_inside_a_rollback_keeps_the_champion(two_versions):
    store_file = two_versions
    promotion.promote(
        "forecaster-v2", actor="ana", reason="r", expected_champion="forecaster-v1", store_path=store_file
    )
    kill_when_paused(cli("rollback", "--kind", "forecaster", "--reason", "bad"), store_file, "rollback:in_transaction")
    state = inspect(store_file)
    assert state["champion"] == "forecaster-v2"
    assert state["statuses"] == {"forecaster-v1": "retired", "forecaster-v2": "champion"}


@pytest.mark.parametrize(
    ("point", "registered"),
    [
        ("register:after_artifact", False),  # artifact written, no row yet
        ("register:in_transaction", False),  # artifact renamed into place, row not committed
        ("promote:in_transaction", True),  # registered, promotion half done
    ],
)
def test_kill_during_a_retrain_keeps_the_champion_and_the_next_retrain_works(two_versions, point, registered):
    store_file = two_versions
    kill_when_paused([sys.executable, "-c", RETRAIN_SCRIPT, "forecaster-v1"], store_file, point)
    state = inspect(store_file)
    assert state["champion"] == "forecaster-v1"
    expected = {"forecaster-v1": "champion", "forecaster-v2": "candidate"}
    if registered:
        expected["forecaster-v3"] = "candidate"
    assert state["statuses"] == expected
    assert state["audit"] == [["promote", "forecaster-v1", None]]
    # a leftover file is at most an unreferenced artifact, which the next registration replaces
    model, X = fit_tiny_forecaster(seed=5)
    fresh = register(store_file, model, cost=1.0)
    assert fresh.version_id == ("forecaster-v4" if registered else "forecaster-v3")
    _, loaded = versions.load_version(fresh.version_id, store_file)
    assert (loaded.predict(X) == model.predict(X)).all()
    staged = [p.name for p in (config.models_dir(store_file) / "forecaster").glob(".staged-*")]
    assert len(staged) <= 1  # only the killed process's own staging file can remain


def test_two_promoter_processes_racing_one_wins_one_conflicts(two_versions):
    store_file = two_versions
    register(store_file, fit_tiny_forecaster()[0], cost=4.0)
    procs = [
        subprocess.Popen(
            cli("promote", version, "--reason", "race", "--expect-champion", "forecaster-v1"),
            cwd=REPO_ROOT,
            env=subprocess_env(store_file),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("forecaster-v2", "forecaster-v3")
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 3]
    loser_err = next(err for code, err in results if code == 3)
    assert "champion is now forecaster-v" in loser_err and "not forecaster-v1 as expected" in loser_err
    winner = next(v for v, (code, _) in zip(("forecaster-v2", "forecaster-v3"), results, strict=True) if code == 0)
    assert versions.get_champion("forecaster", store_file).version_id == winner
    assert [r["version_id"] for r in versions.audit_log(store_file)] == ["forecaster-v1", winner]
