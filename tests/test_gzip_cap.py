"""A compressed input may not inflate without bound: a small .csv.gz or .xes.gz that inflates past
the cap (or by a bomb's ratio) is refused with one line, read as a stream, and nothing is stored."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ContractError
from core.ingest import landing, log_import
from tests.conftest import REPO_ROOT
from tests.test_hostile_files import init_store
from tests.test_ingest import NOW, store_fingerprint

LINE = b"c1,A,2024-01-01T00:00:00Z\n"


def write_bomb(
    path: Path, inflated_mb: int, header: bytes = b"case:concept:name,concept:name,time:timestamp\n"
) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(header)
        block = LINE * (1024 * 1024 // len(LINE))
        for _ in range(inflated_mb):
            f.write(block)
    return path


def test_a_small_gzip_bomb_is_refused_by_the_cli_with_memory_flat(store_file: Path, tmp_path: Path):
    bomb = write_bomb(tmp_path / "log.csv.gz", 130)
    assert bomb.stat().st_size < 400_000  # ≈ 130 MB of CSV from a few hundred kilobytes
    init_store(store_file)
    before = store_fingerprint(store_file)
    probe = (
        "import sys\n"
        "from core.cli import main\n"
        "code = main(['import-log', sys.argv[1], '--store', sys.argv[2]])\n"
        # VmHWM is this process image's own peak; ru_maxrss would carry over the parent's (pytest's) peak
        # across fork and exec.
        "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(int(hwm.split()[1]) // 1024, code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(bomb), str(store_file)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=300,
    )
    peak_mb, code = map(int, done.stdout.splitlines()[-1].split())
    assert code == 2
    assert done.stderr == (
        f"error: {bomb}: the gzip stream inflates more than 200 times its {bomb.stat().st_size:,} bytes "
        "(a compression bomb?); split the file, or raise JOURNEYOPS_MAX_GZIP_RATIO if it is genuine\n"
    )
    assert peak_mb < 600, peak_mb  # the whole log inflated and parsed took 1.1 GB
    assert store_fingerprint(store_file) == before


def test_the_cap_on_decompressed_bytes_is_configurable(store_file: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_MAX_DECOMPRESSED_MB", "0.5")
    big = write_bomb(tmp_path / "log.csv.gz", 1)
    with pytest.raises(ContractError, match=r"log\.csv\.gz: the gzip stream inflates to more than 0\.5 MB; split"):
        log_import.import_log(big, store_path=store_file, now=NOW)
    landing_file = write_bomb(tmp_path / "events_1.csv.gz", 1, b"event_id,order_id,stage,event_ts\n")
    init_store(store_file)
    before = store_fingerprint(store_file)
    with pytest.raises(ContractError, match=r"events_1\.csv\.gz: the gzip stream inflates to more than 0\.5 MB"):
        landing.ingest_paths([landing_file], store_path=store_file, now=NOW)
    assert store_fingerprint(store_file) == before
    monkeypatch.setenv("JOURNEYOPS_MAX_DECOMPRESSED_MB", "2")
    small = write_bomb(tmp_path / "ok.csv.gz", 1)
    assert log_import.import_log(small, store_path=store_file, now=NOW)["events_loaded"] == 1024 * 1024 // len(LINE)


def test_an_xes_gzip_bomb_is_refused(store_file: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_MAX_DECOMPRESSED_MB", "1")
    trace = b'<trace><string key="concept:name" value="c1"/></trace>'
    path = tmp_path / "bomb.xes.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"<log>" + trace * 40_000 + b"</log>")
    with pytest.raises(ContractError, match=r"bomb\.xes\.gz: the gzip stream inflates to more than 1 MB"):
        log_import.import_log(path, store_path=store_file, now=NOW)
