"""Files crafted from outside, through the real CLI: malformed backup manifests, symbolic links in a
backup or a landing folder. Each gets one line on stderr, exit code 2, and nothing stored changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core import store
from core.ops import backup
from tests.conftest import REPO_ROOT
from tests.test_backup import make_store
from tests.test_ingest import (
    HAPPY,
    journey,
    order_row,
    store_fingerprint,
    table_rows,
    write_events,
    write_orders,
    write_text,
)

SECRET = "TOP-SECRET-FIRST-LINE,order_id,stage,event_ts\n"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        timeout=120,
    )


def init_store(path: Path) -> None:
    with store.connect(path):
        pass  # a writer creates and migrates the store


@pytest.fixture
def backed_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A backup folder of a tiny store with a champion."""
    monkeypatch.delenv("JOURNEYOPS_MODELS", raising=False)
    source = make_store(tmp_path / "live" / "journeyops.duckdb")
    backup.create_backup(tmp_path / "b", source)
    return tmp_path / "b"


def _edit(manifest: dict, change: str) -> object:
    if change == "not an object":
        return ["files"]
    edited = json.loads(json.dumps(manifest))
    if change == "no files":
        del edited["files"]
    elif change == "files a list":
        edited["files"] = list(edited["files"])
    elif change == "entry a string":
        edited["files"]["store/journeyops.duckdb"] = "abc"
    elif change == "bytes as text":
        edited["files"]["store/journeyops.duckdb"]["bytes"] = "many"
    elif change == "count as text":
        edited["counts"]["orders"] = "four"
    elif change == "version as text":
        edited["format_version"] = "one"
    elif change == "schema as text":
        edited["schema_version"] = "11"
    return edited


MANIFEST_CASES = [
    ("not an object", r"manifest.json is damaged \(a JSON list, not an object\)"),
    ("no files", r"manifest.json is damaged \(no 'files'\)"),
    ("files a list", r"manifest.json is damaged \('files' is a list, not a dict\)"),
    ("entry a string", r"the entry of 'store/journeyops.duckdb' lacks an integer 'bytes' and a text 'sha256'"),
    ("bytes as text", r"the entry of 'store/journeyops.duckdb' lacks an integer 'bytes'"),
    ("count as text", r"the row count of 'orders' is not an integer"),
    ("version as text", r"is not a backup this version can read \(format 'journeyops-backup' vone\)"),
    ("schema as text", r"manifest.json is damaged \('schema_version' is a str, not a int\)"),
]


@pytest.mark.parametrize(("change", "message"), MANIFEST_CASES, ids=[c for c, _ in MANIFEST_CASES])
def test_a_malformed_manifest_gets_one_line_and_exit_2(backed_up: Path, tmp_path: Path, change: str, message: str):
    manifest_file = backed_up / "manifest.json"
    manifest_file.write_text(json.dumps(_edit(json.loads(manifest_file.read_text()), change)))
    target = tmp_path / "restored.duckdb"
    done = run_cli("restore", str(backed_up), "--store", str(target))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert not target.exists()


@pytest.mark.parametrize("data", [b"\xff\xfe not utf-8", b"{not json"], ids=["not utf-8", "not json"])
def test_a_manifest_that_is_not_json_gets_one_line(backed_up: Path, tmp_path: Path, data: bytes):
    (backed_up / "manifest.json").write_bytes(data)
    done = run_cli("restore", str(backed_up), "--store", str(tmp_path / "restored.duckdb"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {backed_up / 'manifest.json'} is damaged (not ")
    assert done.stderr.count("\n") == 1


def test_a_backup_with_a_symlinked_artifact_is_refused(backed_up: Path, tmp_path: Path):
    # The link's target has exactly the bytes the manifest names: only the link itself gives it away.
    artifact = backed_up / "models" / "forecaster" / "forecaster-v1.skops"
    outside = tmp_path / "outside.skops"
    shutil.copyfile(artifact, outside)
    artifact.unlink()
    artifact.symlink_to(outside)
    target = tmp_path / "restored.duckdb"
    done = run_cli("restore", str(backed_up), "--store", str(target))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: backup {backed_up}: models/forecaster/forecaster-v1.skops is a symbolic link "
        "(at models/forecaster/forecaster-v1.skops); a backup holds real files only, refusing it\n"
    )
    assert not target.exists() and not (tmp_path / "restored_models").exists()


def test_a_backup_with_a_symlinked_models_folder_is_refused(backed_up: Path, tmp_path: Path):
    shutil.move(backed_up / "models", tmp_path / "elsewhere")
    (backed_up / "models").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    done = run_cli("restore", str(backed_up), "--store", str(tmp_path / "restored.duckdb"))
    assert done.returncode == 2
    assert "is a symbolic link (at models); a backup holds real files only" in done.stderr


def _landing_with_a_link(tmp_path: Path) -> tuple[Path, Path]:
    landing = tmp_path / "landing"
    landing.mkdir()
    write_orders(landing / "orders_1.parquet", [order_row("o1")])
    write_events(landing / "events_1.parquet", journey("o1", HAPPY[:3]))
    secret = write_text(tmp_path / "secret.csv", SECRET)
    (landing / "events_2.csv").symlink_to(secret)
    return landing, secret


def test_a_symlink_in_a_landing_folder_is_refused_without_reading_it(store_file, tmp_path):
    landing, _ = _landing_with_a_link(tmp_path)
    init_store(store_file)
    done = run_cli("ingest", str(landing), "--store", str(store_file), "--json")
    assert done.returncode == 2
    assert "TOP-SECRET" not in done.stdout + done.stderr
    assert done.stderr == (
        f"error: {landing / 'events_2.csv'}: is a symbolic link; copy the real file into the folder\n"
    )
    # the real files of the folder still load; the link's target is not
    assert table_rows(store_file, "select count(*) from orders") == [(1,)]
    assert table_rows(store_file, "select count(*) from events") == [(3,)]
    assert table_rows(store_file, "select count(*) from quarantine") == [(0,)]


def test_a_symlink_given_as_a_path_is_refused(store_file, tmp_path):
    _, secret = _landing_with_a_link(tmp_path)
    link = tmp_path / "events_3.csv"
    link.symlink_to(secret)
    init_store(store_file)
    before = store_fingerprint(store_file)
    done = run_cli("ingest", str(link), "--store", str(store_file))
    assert store_fingerprint(store_file) == before
    assert done.returncode == 2
    assert "TOP-SECRET" not in done.stdout + done.stderr
    assert done.stderr == f"error: {link}: is a symbolic link; copy the real file into the folder\n"
