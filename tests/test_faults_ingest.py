"""Faults around ingest, with real processes: a SIGKILL inside and right after a batch's commit,
a full disk (a file-size limit in the child), and the store's lock held both ways.

The crash harness is tests/test_registry_crash.py's: the child pauses at $JOURNEYOPS_PAUSE_AT, is
killed there, and the store is then inspected and the same command run again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from core.ingest import landing
from tests.conftest import REPO_ROOT
from tests.test_ingest import HAPPY, journey, order_row, table_rows, write_orders
from tests.test_ingest import write_events as write_event_file
from tests.test_registry_crash import cli, kill_when_paused, subprocess_env

ORDER_IDS = [f"o{i:02d}" for i in range(12)]
EVENT_ROWS = 12 * 6


@pytest.fixture
def landing_folder(tmp_path: Path) -> Path:
    """12 orders and their first six events each (72 events), in two landing files."""
    folder = tmp_path / "landing"
    folder.mkdir()
    write_orders(folder / "orders_2026-03-02.parquet", [order_row(o, placed_h=i) for i, o in enumerate(ORDER_IDS)])
    write_event_file(
        folder / "events_2026-03-02.parquet", [e for i, o in enumerate(ORDER_IDS) for e in journey(o, HAPPY[:6], i)]
    )
    return folder


def stored(store_file: Path) -> dict[str, Any]:
    """What ingest wrote, without the load times."""
    return {
        "orders": table_rows(store_file, "select order_id, placed_at, carrier from orders order by order_id"),
        "events": table_rows(store_file, "select event_id, order_id, stage, event_ts from events order by event_id"),
        "files": table_rows(store_file, "select kind, rows_loaded, rows_quarantined from ingested_files order by kind"),
        "quarantine": table_rows(store_file, "select count(*) from quarantine"),
    }


@pytest.fixture
def reference(landing_folder: Path, tmp_path: Path) -> dict[str, Any]:
    """The store a clean, uninterrupted ingest of the folder gives."""
    clean = tmp_path / "clean.duckdb"
    landing.ingest_paths([landing_folder], store_path=clean)
    state = stored(clean)
    assert len(state["orders"]) == 12 and len(state["events"]) == EVENT_ROWS
    return state


def run(argv: list[str], store_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env={**subprocess_env(store_file), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def ingest_cli(folder: Path, store_file: Path) -> list[str]:
    return cli("ingest", str(folder), "--store", str(store_file))


@pytest.mark.parametrize(
    ("point", "orders", "events"),
    [
        ("ingest:orders:in_transaction", 0, 0),  # nothing committed yet
        ("ingest:orders:after_commit", 12, 0),  # the orders batch committed, the events not started
        ("ingest:events:in_transaction", 12, 0),  # the events batch written but not committed
        ("ingest:events:after_commit", 12, EVENT_ROWS),  # everything committed, the summary not printed
    ],
)
def test_a_killed_ingest_keeps_what_it_committed_and_the_rerun_loads_the_rest_once(
    landing_folder, reference, store_file, point, orders, events
):
    landing.ingest_paths([], store_path=store_file)  # an empty, migrated store (ingest refuses a missing one)
    kill_when_paused(ingest_cli(landing_folder, store_file), store_file, point)
    after_kill = stored(store_file)
    assert (len(after_kill["orders"]), len(after_kill["events"])) == (orders, events)
    # a file is recorded as loaded exactly when its rows are
    assert [kind for kind, *_ in after_kill["files"]] == ["events"] * (events > 0) + ["orders"] * (orders > 0)
    again = run(ingest_cli(landing_folder, store_file), store_file)
    assert again.returncode == 0, again.stderr
    loaded_now = int(orders == 0) + int(events == 0)
    assert again.stdout.startswith(f"{loaded_now} files loaded, {2 - loaded_now} already loaded, 0 rejected")
    assert stored(store_file) == reference  # nothing lost, nothing loaded twice


def test_a_full_disk_fails_the_ingest_in_one_line_and_the_rerun_loads_everything(
    landing_folder, reference, store_file, tmp_path
):
    landing.ingest_paths([], store_path=store_file)  # an empty, migrated store
    before = stored(store_file)
    limit = 4096  # bytes a file may reach: the store opens, but neither it nor its log can grow much
    wrapper = textwrap.dedent(f"""
        import resource, runpy, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        sys.argv = ["core", "ingest", {str(landing_folder)!r}, "--store", {str(store_file)!r}]
        runpy.run_module("core", run_name="__main__")
    """)
    full = run([sys.executable, "-c", wrapper], store_file)
    assert full.returncode == 74, full.stderr
    assert len(full.stderr.strip().splitlines()) == 1, full.stderr
    assert full.stderr.startswith(f"error: the store {store_file} could not be written (")
    assert "File too large" in full.stderr and "run the command again" in full.stderr
    # the store opens with its committed prefix: each file's rows all there, or none of them
    after = stored(store_file)
    assert after["events"] == [] and after["orders"] in (before["orders"], reference["orders"])
    assert after["files"] == ([("orders", 12, 0)] if after["orders"] else [])
    again = run(ingest_cli(landing_folder, store_file), store_file)
    assert again.returncode == 0, again.stderr
    assert stored(store_file) == reference


def test_a_writer_holding_the_store_makes_readers_wait_calmly_and_loses_nothing(landing_folder, reference, store_file):
    landing.ingest_paths([], store_path=store_file)
    proc = subprocess.Popen(
        ingest_cli(landing_folder, store_file),
        cwd=REPO_ROOT,
        # held 10 s inside its events transaction: time for a busy reader to start and be refused
        env={**subprocess_env(store_file, "ingest:events:in_transaction"), "JOURNEYOPS_PAUSE_S": "10"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip() == "journeyops: paused at ingest:events:in_transaction":
                break
        # while the writer holds the lock, a reader gets a calm one-line error and a retry code
        busy = run(cli("status", "--json", "--store", str(store_file)), store_file, JOURNEYOPS_LOCK_WAIT_S="0.3")
        assert busy.returncode == 75
        assert busy.stderr == (
            f"error: the store {store_file} is locked by another process (a job writing to it); "
            "try again when it has finished\n"
        )
        # a reader willing to wait gets in once the writer commits, and sees all of it
        waited = run(cli("status", "--json", "--store", str(store_file)), store_file, JOURNEYOPS_LOCK_WAIT_S="60")
        assert waited.returncode == 0, waited.stderr
        assert '"events": 72' in waited.stdout and '"orders": 12' in waited.stdout
        assert proc.wait(timeout=60) == 0  # the writer was never disturbed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert stored(store_file) == reference


HOLD_READ_ONLY = textwrap.dedent("""
    import sys, time
    from core import store
    with store.connect(sys.argv[1], read_only=True) as con:
        con.execute("select count(*) from orders").fetchall()
        print("reading", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_a_reader_holding_the_store_makes_a_writer_wait_or_fail_calmly(landing_folder, reference, store_file):
    landing.ingest_paths([], store_path=store_file)
    before = stored(store_file)
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(store_file), "60"],
        cwd=REPO_ROOT,
        env=subprocess_env(store_file),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        refused = run(ingest_cli(landing_folder, store_file), store_file, JOURNEYOPS_LOCK_WAIT_S="0.5")
    finally:
        reader.kill()
        reader.wait(timeout=30)
    assert refused.returncode == 75
    assert refused.stderr.strip().endswith(
        "is locked by another process (a job writing to it); try again when it has finished"
    )
    assert stored(store_file) == before
    # a reader that lets go within the writer's wait: the writer goes ahead and loads everything once
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(store_file), "1.5"],
        cwd=REPO_ROOT,
        env=subprocess_env(store_file),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
    waited = run(ingest_cli(landing_folder, store_file), store_file, JOURNEYOPS_LOCK_WAIT_S="60")
    assert reader.wait(timeout=30) == 0
    assert waited.returncode == 0, waited.stderr
    assert stored(store_file) == reference
