from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from core import store
from core.errors import StoreBusyError, StoreMissingError
from tests.conftest import REPO_ROOT
from tests.fixtures import store_held_by_a_job


def test_a_writer_creates_and_migrates_the_store(store_file):
    with store.connect(store_file) as con:
        versions = con.execute("select version from schema_version order by version").fetchall()
    assert [v for (v,) in versions] == [n for n, _ in store.migrations()]
    assert store.read_status(store_file) == {
        "orders": 0,
        "events": 0,
        "open_orders": 0,
        "quarantined_rows": 0,
        "first_event_at": None,
        "last_event_at": None,
    }


def test_migration_runs_once(store_file):
    with store.connect(store_file):
        pass
    with store.connect(store_file) as con:
        (count,) = con.execute("select count(*) from schema_version").fetchone()
    assert count == len(store.migrations())


def test_a_reader_needs_an_existing_store(tmp_path):
    with pytest.raises(StoreMissingError, match="python -m core demo"):
        with store.connect(tmp_path / "absent.duckdb", read_only=True):
            pass


def test_readers_cannot_reach_server_files(store_file):
    with store.connect(store_file):
        pass
    with store.connect(store_file, read_only=True) as con:
        with pytest.raises(duckdb.PermissionException):
            con.execute("select * from read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error, match="configuration"):
            con.execute("set enable_external_access = true")


def test_a_failed_transaction_writes_nothing(store_file):
    with pytest.raises(RuntimeError):
        with store.transaction(store_file) as con:
            con.execute("insert into quarantine values ('f', 1, null, 'why', $at)", {"at": store.utcnow()})
            raise RuntimeError("boom")
    assert store.read_status(store_file)["quarantined_rows"] == 0


def test_a_lock_held_by_another_process_ends_in_a_calm_error(store_file, monkeypatch):
    with store.connect(store_file):
        pass
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.3")
    with store_held_by_a_job(store_file):
        with pytest.raises(StoreBusyError, match="locked by another process"):
            store.read_status(store_file)
    assert store.read_status(store_file)["orders"] == 0


def test_cli_status_json_and_missing_store(store_file, tmp_path):
    with store.connect(store_file):
        pass
    ok = subprocess.run(
        [sys.executable, "-m", "core", "status", "--json", "--store", str(store_file)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    assert '"events": 0' in ok.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "core", "status", "--store", str(tmp_path / "nope.duckdb")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: no store at")
    assert len(missing.stderr.strip().splitlines()) == 1


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("select current_setting('memory_limit')").fetchone()[0])


def test_connections_take_the_configured_memory_limit(store_file, monkeypatch):
    monkeypatch.delenv("JOURNEYOPS_DUCKDB_MEMORY", raising=False)
    with store.connect(store_file) as con:
        assert _memory_limit(con) == "953.6 MiB"  # the 1 GB default, in DuckDB's units
    monkeypatch.setenv("JOURNEYOPS_DUCKDB_MEMORY", "512MB")
    with store.connect(store_file, read_only=True) as con:
        assert _memory_limit(con) == "488.2 MiB"
    monkeypatch.setenv("JOURNEYOPS_DUCKDB_MEMORY", "default")
    with store.connect(store_file) as con:
        assert _memory_limit(con) == _memory_limit(duckdb.connect())
