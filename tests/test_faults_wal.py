"""A torn or corrupted write-ahead log, from a real SIGKILL: the store opens with its committed
prefix, or every command says in one line what to do — the same answer each time, never a loop of
tracebacks, and the damaged log is left for a person to rescue."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from core import store
from core.ops import scheduler
from tests.conftest import REPO_ROOT
from tests.test_registry_crash import cli, subprocess_env

# Three committed transactions on one connection, then SIGKILL before the connection closes: the
# log is never folded into the file (DuckDB checkpoints when the last connection closes).
COMMIT_THREE_THEN_DIE = textwrap.dedent("""
    import os, signal, sys
    from core import store
    with store.connect(sys.argv[1]) as con:
        for i in range(3):
            con.execute("begin transaction")
            con.execute(
                "insert into quarantine values ($source, $row, null, 'test', now()::timestamp)",
                {"source": "f" + str(i), "row": i},
            )
            con.execute("commit")
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.fixture
def killed_with_a_log(store_file: Path) -> tuple[Path, bytes]:
    """A store whose three committed transactions live only in its WAL; (store, the log's bytes)."""
    with store.connect(store_file):
        pass
    done = subprocess.run(
        [sys.executable, "-c", COMMIT_THREE_THEN_DIE, str(store_file)],
        cwd=REPO_ROOT,
        env=subprocess_env(store_file),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    wal = wal_of(store_file)
    assert wal.stat().st_size > 0
    return store_file, wal.read_bytes()


def wal_of(store_file: Path) -> Path:
    return store_file.with_name(store_file.name + ".wal")


def status(store_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli("status", "--json", "--store", str(store_file)),
        cwd=REPO_ROOT,
        env=subprocess_env(store_file),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_killed_writer_loses_nothing_it_committed(killed_with_a_log):
    store_file, _ = killed_with_a_log
    opened = status(store_file)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["quarantined_rows"] == 3
    with store.connect(store_file):  # the next writer folds the log into the file
        pass
    assert not wal_of(store_file).exists()
    assert store.read_status(store_file)["quarantined_rows"] == 3


def test_a_torn_log_opens_with_its_committed_prefix(killed_with_a_log):
    store_file, log = killed_with_a_log
    pristine = store_file.read_bytes()
    found = []
    for keep in (len(log), len(log) - 1, len(log) - 20, (2 * len(log)) // 3, len(log) // 3, 10, 0):
        store_file.write_bytes(pristine)
        wal_of(store_file).write_bytes(log[:keep])
        with store.connect(store_file, read_only=True) as con:
            rows = con.execute("select source from quarantine order by source").fetchall()
        found.append([source for (source,) in rows])
    # a cut log keeps whole transactions from the start, in order, and drops the torn one
    assert found[0] == ["f0", "f1", "f2"]
    assert found[1] == ["f0", "f1"]
    assert found[-2:] == [[], []]
    assert all(rows == ["f0", "f1", "f2"][: len(rows)] for rows in found)
    assert [len(rows) for rows in found] == sorted((len(rows) for rows in found), reverse=True)


def test_a_corrupted_log_stops_every_command_with_the_same_one_line_advice(killed_with_a_log):
    store_file, log = killed_with_a_log
    damaged = bytearray(log)
    damaged[len(log) // 2] ^= 0xFF
    wal_of(store_file).write_bytes(bytes(damaged))
    wal = wal_of(store_file)
    for _ in range(2):  # a scheduler retrying gets the same calm answer, and nothing is altered
        refused = status(store_file)
        assert refused.returncode == 74
        assert len(refused.stderr.splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith(f"error: the store's write-ahead log {wal} is damaged (Corrupt WAL file: ")
        assert refused.stderr.endswith(
            f"so the store was not opened; move the log aside (mv {wal} {wal}.damaged) to open the store as of "
            "its last checkpoint, losing the transactions committed after it, or restore a backup "
            "(python -m core restore)\n"
        )
        assert wal.read_bytes() == bytes(damaged)
    wal.rename(wal.with_name(wal.name + ".damaged"))  # the advice, followed
    opened = status(store_file)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["quarantined_rows"] == 0  # the last checkpoint: before the three


def test_the_scheduler_fails_the_day_once_on_a_corrupted_log_and_does_not_retry_in_a_loop(killed_with_a_log):
    store_file, log = killed_with_a_log
    damaged = bytearray(log)
    damaged[len(log) // 2] ^= 0xFF
    wal_of(store_file).write_bytes(bytes(damaged))
    daily = [job for job in scheduler.DEFAULT_SCHEDULE if job.name == "daily"]
    now = datetime(2026, 3, 10, 6, 30)
    outcomes = scheduler.run_due(now, store_file, schedule=daily, runner=scheduler.subprocess_runner)
    assert [(o.name, o.status, o.exit_code) for o in outcomes] == [("daily", "failed", 74)]
    # the failed slot is recorded: the next ticks wait for the next day's slot instead of retrying
    assert scheduler.run_due(now, store_file, schedule=daily, runner=scheduler.subprocess_runner) == []
    assert json.loads(scheduler.state_file(store_file).read_text())["daily"]["exit_code"] == 74
    assert wal_of(store_file).read_bytes() == bytes(damaged)
