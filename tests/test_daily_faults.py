"""Faults in what the daily run reads besides the store, through the real CLI: a damaged shadow model
and a damaged or edited drift reference. The champion still serves, the failed step is recorded
(job warning, a `job_failed` alert) and nothing is silently changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor

from core import config, store
from core.registry import registration
from core.scoring import checked_files
from tests.conftest import REPO_ROOT
from tests.test_scenarios import TrainedWorld, copy_world, session_world


def run_daily_cli(world: TrainedWorld, day: date) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "core", "daily", "--store", str(world.store), "--as-of", str(day), "--no-retrain"]
        + ["--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "JOURNEYOPS_STORE": str(world.store)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def read(sql: str, path: Path, **params: object) -> pd.DataFrame:
    with store.connect(path, read_only=True) as con:
        return con.execute(sql, params).df()


def day_alerts(path: Path, day: date) -> list[tuple[str, str, str]]:
    rows = read(
        "select rule, severity, subject from alerts where as_of = $d and rule = 'job_failed' order by subject",
        path,
        d=day,
    )
    return list(rows.itertuples(index=False, name=None))


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> TrainedWorld:
    return copy_world(session_world(tmp_path_factory), tmp_path)


def test_a_damaged_shadow_model_does_not_stop_the_champion(world: TrainedWorld) -> None:
    challenger = registration.register_version(
        "forecaster",
        DummyRegressor(strategy="constant", constant=30.0).fit(np.zeros((3, 1)), [1.0, 2.0, 3.0]),
        training_window=["2026-01-01T00:00:00", "2026-01-31T00:00:00"],
        feature_columns=["elapsed_h"],
        metrics={},
        backtest=[],
        evaluation=None,
        store_path=world.store,
    )
    artifact = config.models_dir(world.store) / challenger.artifact_path
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))

    outcome = run_daily_cli(world, world.next_day)

    assert outcome["forecaster_version"] == "forecaster-v1" and outcome["listed"] > 0
    assert outcome["challenger_forecaster_version"] is None
    (failure,) = outcome["step_failures"]
    assert (failure["step"], failure["subject"]) == ("shadow", f"{challenger.version_id} / stuck_classifier-v1")
    assert "failed its checksum" in failure["error"]
    roles = read("select distinct role from predictions where as_of_date = $d", world.store, d=world.next_day)
    assert roles["role"].tolist() == ["champion"]
    assert day_alerts(world.store, world.next_day) == [("job_failed", "warning", "daily shadow")]
    run = read("select status, figures from job_runs where kind = 'daily'", world.store).iloc[-1]
    assert run["status"] == "succeeded"
    assert json.loads(run["figures"])["warnings"][0].startswith("shadow step failed: model file ")


def _reference_files(world: TrainedWorld) -> tuple[Path, Path]:
    folder = config.models_dir(world.store) / "reference"
    (reference,) = folder.glob("*.parquet")
    return reference, reference.with_suffix(".thresholds.json")


def test_an_edited_thresholds_file_fails_the_drift_step_not_the_day(world: TrainedWorld) -> None:
    first = run_daily_cli(world, world.next_day)
    assert "step_failures" not in first and first["drift_share"] is not None
    reference, thresholds = _reference_files(world)
    assert checked_files.checksum_file(reference).is_file() and checked_files.checksum_file(thresholds).is_file()
    edited = json.loads(thresholds.read_text())
    edited["thresholds"] = {k: 0.999 for k in edited["thresholds"]}  # "fewer alerts, please"
    thresholds.write_text(json.dumps(edited))

    second_day = world.next_day + timedelta(days=1)
    outcome = run_daily_cli(world, second_day)

    assert outcome["drift_share"] is None and outcome["listed"] > 0
    assert "was changed after it was written" in outcome["drift_failed"]
    assert [f["step"] for f in outcome["step_failures"]] == ["drift"]
    assert day_alerts(world.store, second_day) == [("job_failed", "critical", "daily drift")]
    assert read("select count(*) as n from drift_results where as_of = $d", world.store, d=second_day)["n"][0] == 0
    assert json.loads(thresholds.read_text()) == edited  # refused, not silently rewritten


def test_a_damaged_reference_sample_fails_the_drift_step_not_the_day(world: TrainedWorld) -> None:
    run_daily_cli(world, world.next_day)
    reference, _ = _reference_files(world)
    reference.write_bytes(reference.read_bytes()[:100])

    outcome = run_daily_cli(world, world.next_day + timedelta(days=1))

    assert outcome["listed"] > 0 and outcome["drift_share"] is None
    assert outcome["drift_failed"].startswith(f"{reference} was changed after it was written")


def test_checked_files_refuse_a_missing_or_wrong_checksum(tmp_path: Path) -> None:
    path = tmp_path / "ref.json"
    checked_files.write_checked(path, b'{"a": 1}')
    assert checked_files.read_checked(path) == b'{"a": 1}'
    assert checked_files.checksum_file(path).read_text() == (
        "f9d86028c6e0d64e225186f96acb69338b2c59764df79162107f5c4bb34d1310"
    )
    path.write_bytes(b'{"a": 2}')
    with pytest.raises(checked_files.CheckedFileError, match=r"ref\.json was changed after it was written"):
        checked_files.read_checked(path)
    checked_files.checksum_file(path).unlink()
    with pytest.raises(checked_files.CheckedFileError, match=r"ref\.json has no recorded checksum"):
        checked_files.read_checked(path)
