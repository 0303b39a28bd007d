"""A backup or a restore killed (SIGKILL) half-way, with real processes and files: no half backup
passes for a whole one, the live store is untouched until the swap, and running the same command
again finishes the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor

from core import config, store
from core.jobs import runs
from core.ops import backup
from core.ops.backup import BackupError
from core.registry import promotion, registration, versions
from tests.conftest import REPO_ROOT
from tests.test_backup import make_store
from tests.test_registry_crash import cli, kill_when_paused, subprocess_env


def run(argv: list[str], store_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=subprocess_env(store_file), capture_output=True, text=True, timeout=120
    )


def champion_prediction(store_file: Path) -> tuple[str, float]:
    version, model = versions.load_champion("forecaster", store_file)
    return version.version_id, float(model.predict(np.zeros((1, 1)))[0])


def model_files(store_file: Path) -> list[str]:
    folder = config.models_dir(store_file)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("JOURNEYOPS_MODELS", raising=False)
    return make_store(tmp_path / "live" / "journeyops.duckdb")


def test_a_killed_backup_leaves_no_backup_and_the_next_one_works(live, tmp_path):
    before = store.read_status(live)
    out = tmp_path / "backups" / "b1"
    kill_when_paused(cli("backup", "--out", str(out), "--store", str(live)), live, "backup:copying")
    assert not out.exists()  # the folder appears only complete, by its final rename
    partial = [p for p in out.parent.iterdir() if p.name.startswith(".b1.partial-")]
    assert len(partial) == 1
    with pytest.raises(BackupError, match="has no manifest.json: it is not a JourneyOps backup, or the backup never"):
        backup.verify_backup(partial[0])  # the leftover staging folder can never be restored by mistake
    refused = run(cli("restore", str(out), "--store", str(tmp_path / "elsewhere.duckdb")), live)
    assert (refused.returncode, refused.stderr) == (2, f"error: no backup folder at {out}\n")
    assert store.read_status(live) == before
    assert champion_prediction(live) == ("forecaster-v1", 30.0)
    # the killed run holds no lock: the same backup now goes through
    again = run(cli("backup", "--out", str(out), "--store", str(live)), live)
    assert again.returncode == 0, again.stderr
    assert backup.verify_backup(out)["counts"]["events"] == 19
    assert sorted(runs.recent_runs("backup", store_path=live)["status"]) == ["abandoned", "succeeded"]


@pytest.fixture
def moved_on(live: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A backup of the live store (champion v1), after which the live store moved on (champion v2)."""
    backup.create_backup(tmp_path / "b", live)
    model = DummyRegressor(strategy="constant", constant=50.0).fit(np.zeros((3, 1)), [1.0, 2.0, 3.0])
    version = registration.register_version(
        "forecaster",
        model,
        training_window={"from": "2026-03-02", "to": "2026-03-10"},
        feature_columns=["elapsed_h"],
        metrics={"mae_h": 3.0},
        backtest=[],
        evaluation=None,
        store_path=live,
    )
    promotion.promote(version.version_id, actor="t", reason="newer", expected_champion="forecaster-v1", store_path=live)
    with store.transaction(live) as con:
        con.execute("delete from events where order_id = 'D'")
    return live, tmp_path / "b"


def test_a_restore_killed_before_the_swap_leaves_the_live_store_and_models_as_they_were(moved_on):
    live, saved = moved_on
    before = (store.read_status(live), model_files(live))
    kill_when_paused(cli("restore", str(saved), "--force", "--store", str(live)), live, "restore:staged")
    assert (store.read_status(live), model_files(live)) == before
    assert champion_prediction(live) == ("forecaster-v2", 50.0)
    again = run(cli("restore", str(saved), "--force", "--store", str(live)), live)
    assert again.returncode == 0, again.stderr
    assert store.read_status(live)["events"] == 19
    assert champion_prediction(live) == ("forecaster-v1", 30.0)
    assert model_files(live) == ["forecaster/forecaster-v1.skops"]


def test_a_restore_killed_between_the_store_and_the_models_is_finished_by_running_it_again(moved_on):
    live, saved = moved_on
    kill_when_paused(cli("restore", str(saved), "--force", "--store", str(live)), live, "restore:swapping")
    # the store is the backup's, the models folder still the old one: the registry rows it names are
    # there with the same checksums (artifacts are never rewritten), so the champion still serves
    assert store.read_status(live)["events"] == 19
    assert champion_prediction(live) == ("forecaster-v1", 30.0)
    assert model_files(live) == ["forecaster/forecaster-v1.skops", "forecaster/forecaster-v2.skops"]
    again = run(cli("restore", str(saved), "--force", "--store", str(live), "--json"), live)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["champions"] == {"forecaster": "forecaster-v1"}
    assert model_files(live) == ["forecaster/forecaster-v1.skops"]
    assert champion_prediction(live) == ("forecaster-v1", 30.0)
    assert store.read_status(live)["events"] == 19


def test_a_full_disk_fails_the_backup_in_one_line_and_leaves_no_half_backup(live, tmp_path):
    before = store.read_status(live)
    out = tmp_path / "backups" / "b1"
    limit = 4096  # bytes a file may reach: the store can be read, not checkpointed nor copied
    wrapper = textwrap.dedent(f"""
        import resource, runpy, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        sys.argv = ["core", "backup", "--out", {str(out)!r}, "--store", {str(live)!r}]
        runpy.run_module("core", run_name="__main__")
    """)
    full = run([sys.executable, "-c", wrapper], live)
    assert full.returncode == 74, full.stderr
    assert len(full.stderr.strip().splitlines()) == 1, full.stderr
    assert full.stderr.startswith(f"error: the store {live} could not be written (")
    assert "File too large" in full.stderr
    assert not out.exists() and list(out.parent.iterdir()) == []  # no backup, no staging left
    assert store.read_status(live) == before
    assert champion_prediction(live) == ("forecaster-v1", 30.0)
    again = run(cli("backup", "--out", str(out), "--store", str(live)), live)
    assert again.returncode == 0, again.stderr
    assert backup.verify_backup(out)["counts"]["events"] == 19


def test_a_backup_folder_that_fills_up_fails_in_one_line_and_keeps_nothing(live, tmp_path):
    # the world state is copied with the store; made larger than the limit, its copy is what fails
    world = live.with_name("journeyops_world.npz")
    world.write_bytes(os.urandom(6_000_000))
    out = tmp_path / "backups" / "b1"
    limit = live.stat().st_size + 2_000_000  # the store may grow by a checkpoint; the copy of the world may not
    wrapper = textwrap.dedent(f"""
        import resource, runpy, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        sys.argv = ["core", "backup", "--out", {str(out)!r}, "--store", {str(live)!r}]
        runpy.run_module("core", run_name="__main__")
    """)
    full = run([sys.executable, "-c", wrapper], live)
    assert full.returncode == 74, full.stderr
    assert full.stderr == (
        f"error: the backup could not be written to {out.parent} (File too large); nothing of it was kept: "
        "free space there (or pass another --out) and run the backup again\n"
    )
    assert list(out.parent.iterdir()) == []
    (failed,) = runs.recent_runs("backup", store_path=live).to_dict("records")
    assert failed["status"] == "failed" and failed["error"].startswith("OSError: [Errno 27] File too large: ")
    again = run(cli("backup", "--out", str(out), "--store", str(live)), live)
    assert again.returncode == 0, again.stderr
    assert sorted(backup.verify_backup(out)["files"]) == [
        "models/forecaster/forecaster-v1.skops",
        "store/journeyops.duckdb",
        "world/world.npz",
    ]
