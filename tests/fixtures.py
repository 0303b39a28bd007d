"""Tiny hand-made stores for exact tests: a few orders of the order world, a few tickets of a real log."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from core import store

# (case, stage, timestamp). Week of Monday 2026-03-02 and the next one.
ORDER_WORLD_EVENTS: list[tuple[str, str, str]] = [
    # A: the happy path, delivered on Thursday
    ("A", "placed", "2026-03-02 08:00"),
    ("A", "payment_confirmed", "2026-03-02 10:00"),
    ("A", "allocated", "2026-03-02 14:00"),
    ("A", "picked", "2026-03-03 08:00"),
    ("A", "packed", "2026-03-03 10:00"),
    ("A", "shipped", "2026-03-03 12:00"),
    ("A", "out_for_delivery", "2026-03-05 08:00"),
    ("A", "delivered", "2026-03-05 14:00"),
    # B: a payment hold, then cancelled
    ("B", "placed", "2026-03-02 09:00"),
    ("B", "payment_hold", "2026-03-02 09:30"),
    ("B", "payment_confirmed", "2026-03-03 09:30"),
    ("B", "allocated", "2026-03-03 12:00"),
    ("B", "cancelled", "2026-03-04 12:00"),
    # C: stuck in allocated
    ("C", "placed", "2026-03-03 10:00"),
    ("C", "payment_confirmed", "2026-03-03 11:00"),
    ("C", "allocated", "2026-03-04 11:00"),
    # D: placed the next Monday, still open
    ("D", "placed", "2026-03-09 08:00"),
    ("D", "payment_confirmed", "2026-03-09 20:00"),
    ("D", "allocated", "2026-03-10 08:00"),
]

# A helpdesk-like log: free-form activities, "Closed" ends a ticket; T3 is still open.
TICKET_LOG_EVENTS: list[tuple[str, str, str]] = [
    ("T1", "Assign seriousness", "2026-01-05 09:00"),
    ("T1", "Take in charge ticket", "2026-01-05 12:00"),
    ("T1", "Resolve ticket", "2026-01-07 12:00"),
    ("T1", "Closed", "2026-01-08 12:00"),
    ("T2", "Assign seriousness", "2026-01-06 09:00"),
    ("T2", "Take in charge ticket", "2026-01-06 10:00"),
    ("T2", "Wait", "2026-01-06 16:00"),
    ("T2", "Resolve ticket", "2026-01-08 16:00"),
    ("T2", "Closed", "2026-01-09 16:00"),
    ("T3", "Assign seriousness", "2026-01-07 09:00"),
    ("T3", "Take in charge ticket", "2026-01-07 09:30"),
    ("T3", "Resolve ticket", "2026-01-09 09:30"),
]


def write_events(path: str | os.PathLike[str], events: Iterable[tuple[str, str, str]], source: str = "test") -> Path:
    """Create a store at `path` holding these (case, stage, 'YYYY-MM-DD HH:MM') events and their orders."""
    rows = [(case, stage, datetime.fromisoformat(ts)) for case, stage, ts in events]
    placed_at: dict[str, datetime] = {}
    for case, _, ts in rows:
        placed_at[case] = min(ts, placed_at.get(case, ts))
    now = store.utcnow()
    with store.transaction(path) as con:
        for case, first_at in placed_at.items():
            con.execute(
                "insert into orders (order_id, placed_at, source, loaded_at) values ($id, $at, $src, $now)",
                {"id": case, "at": first_at, "src": source, "now": now},
            )
        for i, (case, stage, ts) in enumerate(rows):
            con.execute(
                "insert into events (event_id, order_id, stage, event_ts, source, loaded_at) "
                "values ($eid, $id, $stage, $ts, $src, $now)",
                {"eid": f"e{i:05d}", "id": case, "stage": stage, "ts": ts, "src": source, "now": now},
            )
    return Path(path)


DEMO_DAYS = 20
DEMO_ORDERS_PER_DAY = 150


def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo store of the simulated world (20 days × 150 orders a day, no models: too few
    journeys to train on) built by the CLI, once per test session and shared by the page tests."""
    path = tmp_path_factory.getbasetemp() / "demo_world" / "journeyops.duckdb"
    if not path.exists():
        from core.cli import main

        args = [
            "demo",
            "--store",
            str(path),
            "--days",
            str(DEMO_DAYS),
            "--orders-per-day",
            str(DEMO_ORDERS_PER_DAY),
            "--skip-training",
        ]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(args)
        assert code == 0, f"python -m core {' '.join(args)} exited with {code}"
    return path


def helpdesk_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real helpdesk log (4,580 tickets) imported into a store, once per test session."""
    from core.ingest import log_import
    from tests.conftest import SHARED_DATA

    path = tmp_path_factory.getbasetemp() / "helpdesk" / "journeyops.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        log_import.import_log(SHARED_DATA / "helpdesk.xes.gz", store_path=path)
    return path


_LOCK_HOLDER = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])  # a writer in another process holds the file lock, as a job does
print("locked", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def store_held_by_a_job(path: str | os.PathLike[str]) -> Iterator[None]:
    """Another process holds the store's write lock (as a daily job does) while the block runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def simulated_store(folder: Path, *, days: int, orders_per_day: int, seed: int, start: str) -> Path:
    """A simulated world of `days` days ingested into `folder`/store.duckdb (its files in `folder`/landing)."""
    from core.ingest import landing
    from core.world import simulate

    simulate.simulate_to_dir(
        out_dir=folder / "landing", days=days, orders_per_day=orders_per_day, seed=seed, start=start, progress=False
    )
    path = folder / "store.duckdb"
    landing.ingest_paths([folder / "landing"], store_path=path)
    return path
