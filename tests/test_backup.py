"""Backup and restore for real: a tiny store with a champion, round-tripped through the CLI."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor

from core import store
from core.cli import main
from core.ops import backup
from core.ops.backup import BackupError
from core.registry import promotion, registration, versions
from tests.fixtures import ORDER_WORLD_EVENTS, write_events


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def make_store(path: Path) -> Path:
    """4 orders, 19 events and a promoted forecaster (a DummyRegressor) in a fresh store."""
    write_events(path, ORDER_WORLD_EVENTS)
    model = DummyRegressor(strategy="constant", constant=30.0).fit(np.zeros((3, 1)), [1.0, 2.0, 3.0])
    version = registration.register_version(
        "forecaster",
        model,
        training_window={"from": "2026-03-02", "to": "2026-03-09"},
        feature_columns=["elapsed_h"],
        metrics={"mae_h": 4.0},
        backtest=[],
        evaluation=None,
        store_path=path,
    )
    promotion.promote(version.version_id, actor="test", reason="first model", expected_champion=None, store_path=path)
    return path


def status_json(path: Path) -> dict:
    code, out, _ = run_cli("status", "--json", "--store", str(path))
    assert code == 0
    return json.loads(out)


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("JOURNEYOPS_MODELS", raising=False)
    return make_store(tmp_path / "live" / "journeyops.duckdb")


def test_round_trip_gives_the_same_status_and_champion(source: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli("backup", "--out", str(tmp_path / "b"), "--store", str(source))
    assert code == 0 and "backup written to" in out
    target = tmp_path / "elsewhere" / "journeyops.duckdb"
    code, out, _ = run_cli("restore", str(tmp_path / "b"), "--store", str(target))
    assert code == 0, out
    assert status_json(target) == status_json(source)
    assert status_json(target)["orders"] == 4 and status_json(target)["events"] == 19
    champion, model = versions.load_champion("forecaster", target)
    assert champion.version_id == "forecaster-v1"
    assert model.predict(np.zeros((1, 1))).tolist() == [30.0]
    # the backup's own run is not left "running" in the restored store: the next backup works
    code, out, _ = run_cli("job-runs", "--kind", "backup", "--json", "--store", str(target))
    assert [(r["status"], r["error"]) for r in json.loads(out)] == [
        ("abandoned", "restored from a backup taken while this run was in progress")
    ]
    code, _, err = run_cli("backup", "--out", str(tmp_path / "b2"), "--store", str(target))
    assert code == 0, err


def test_manifest_lists_every_file_with_its_checksum_counts_and_schema(source: Path, tmp_path: Path) -> None:
    manifest = backup.create_backup(tmp_path / "b", source)
    assert sorted(manifest["files"]) == ["models/forecaster/forecaster-v1.skops", "store/journeyops.duckdb"]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == backup.sha256_file(tmp_path / "b" / name)
    assert manifest["schema_version"] == store.schema_version()
    assert manifest["counts"]["orders"] == 4 and manifest["counts"]["events"] == 19
    assert manifest["counts"]["model_versions"] == 1
    assert manifest["champions"] == {"forecaster": "forecaster-v1"}
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["format"] == "journeyops-backup"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_restore_over_a_store_needs_force_and_keeps_the_previous_one(source: Path, tmp_path: Path) -> None:
    backup.create_backup(tmp_path / "b", source)
    with store.transaction(source) as con:  # the live store moves on after the backup
        con.execute("delete from events where order_id = 'D'")
    code, _, err = run_cli("restore", str(tmp_path / "b"), "--store", str(source))
    assert code == 2 and "a store already exists" in err and "--force" in err
    assert status_json(source)["events"] == 16
    outcome = backup.restore_backup(tmp_path / "b", source, force=True)
    assert status_json(source)["events"] == 19
    kept = Path(outcome["previous_kept_in"])
    assert kept.parent == source.parent and kept.name.startswith("pre-restore-")
    assert status_json(kept / "journeyops.duckdb")["events"] == 16
    assert (kept / "models" / "forecaster" / "forecaster-v1.skops").exists()


def test_a_corrupted_backup_is_refused_and_the_current_store_is_untouched(source: Path, tmp_path: Path) -> None:
    backup.create_backup(tmp_path / "b", source)
    data = bytearray((tmp_path / "b" / "store" / "journeyops.duckdb").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "b" / "store" / "journeyops.duckdb").write_bytes(bytes(data))
    before = status_json(source)
    code, _, err = run_cli("restore", str(tmp_path / "b"), "--store", str(source), "--force")
    assert code == 2
    assert "is damaged: store/journeyops.duckdb does not match its sha256" in err
    assert status_json(source) == before
    assert sorted(p.name for p in source.parent.iterdir()) == ["journeyops.duckdb", "journeyops_models"]


def test_incomplete_or_foreign_backups_are_refused(source: Path, tmp_path: Path) -> None:
    backup.create_backup(tmp_path / "b", source)
    (tmp_path / "b" / "models" / "forecaster" / "forecaster-v1.skops").unlink()
    with pytest.raises(BackupError, match="is incomplete: models/forecaster/forecaster-v1.skops is missing"):
        backup.restore_backup(tmp_path / "b", tmp_path / "new.duckdb")
    (tmp_path / "b" / "manifest.json").unlink()
    with pytest.raises(BackupError, match="has no manifest.json: it is not a JourneyOps backup"):
        backup.verify_backup(tmp_path / "b")
    with pytest.raises(BackupError, match="no backup folder at"):
        backup.verify_backup(tmp_path / "nothing")
    assert not (tmp_path / "new.duckdb").exists()


def test_a_manifest_cannot_point_outside_the_backup(source: Path, tmp_path: Path) -> None:
    backup.create_backup(tmp_path / "b", source)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    manifest["files"]["../../etc/passwd"] = {"bytes": 1, "sha256": "0" * 64}
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="a path outside the backup"):
        backup.verify_backup(tmp_path / "b")


def test_a_truncated_manifest_and_a_newer_schema_are_refused(source: Path, tmp_path: Path) -> None:
    backup.create_backup(tmp_path / "b", source)
    text = (tmp_path / "b" / "manifest.json").read_text()
    manifest = json.loads(text)
    manifest["schema_version"] = store.schema_version() + 1
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="newer than this code's"):
        backup.verify_backup(tmp_path / "b")
    (tmp_path / "b" / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(BackupError, match="manifest.json is damaged"):
        backup.verify_backup(tmp_path / "b")


def test_dated_backups_are_pruned_to_keep_and_a_full_folder_is_refused(source: Path, tmp_path: Path) -> None:
    for day in (1, 2, 3):
        backup.create_backup(
            tmp_path / "nightly", source, stamped=True, keep=2, now=datetime(2026, 3, day, 2, 0, tzinfo=UTC)
        )
    assert sorted(p.name for p in (tmp_path / "nightly").iterdir()) == [
        "backup-20260302T020000Z",
        "backup-20260303T020000Z",
    ]
    with pytest.raises(BackupError, match="already exists and is not empty"):
        backup.create_backup(tmp_path / "nightly" / "backup-20260303T020000Z", source)
    code, _, err = run_cli("backup", "--out", str(tmp_path / "x"), "--keep", "2", "--store", str(source))
    assert code == 2 and "--keep only goes with --stamp" in err


def test_backup_of_a_missing_store_says_so(tmp_path: Path) -> None:
    code, _, err = run_cli("backup", "--out", str(tmp_path / "b"), "--store", str(tmp_path / "none.duckdb"))
    assert code == 2 and "no store at" in err
