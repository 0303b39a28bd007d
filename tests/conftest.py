"""Shared fixtures: every test gets its own store file and never touches data/."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Browser tests' screenshots of their scratch worlds: beside the run, never over the README's pictures,
# which `make screenshots` takes from the demo store.
TEST_SCREENSHOTS = Path(tempfile.gettempdir()) / "journeyops-test-screenshots"
TEST_SCREENSHOTS.mkdir(exist_ok=True)
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store path in a temporary folder, also set as $JOURNEYOPS_STORE."""
    path = tmp_path / "journeyops.duckdb"
    monkeypatch.setenv("JOURNEYOPS_STORE", str(path))
    monkeypatch.delenv("JOURNEYOPS_MODELS", raising=False)
    return path
