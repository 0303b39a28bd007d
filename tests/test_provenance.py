"""The commit a generated figure names: HEAD, marked -dirty when measured code differs from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core import provenance
from core.models import report


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def test_the_commit_is_heads_and_dirty_only_when_measured_code_changed(tmp_path: Path):
    assert provenance.source_commit(tmp_path) is None  # not a checkout
    _git(tmp_path, "init", "-q")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("figures\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "first")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")
    assert provenance.source_commit(tmp_path) == head
    (tmp_path / "docs" / "page.md").write_text("new figures\n")  # a generated page is not measured code
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert provenance.source_commit(tmp_path) == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert provenance.source_commit(tmp_path) == f"{head}-dirty"


def test_the_model_report_names_its_commit():
    page = report.render_markdown({"written_at": "2026-01-01 00:00 UTC", "commit": "abc1234", "logs": []})
    assert "on 2026-01-01 00:00 UTC, on commit abc1234 — do not edit by hand" in page
    assert "on commit unknown" in report.render_markdown({"written_at": "2026-01-01 00:00 UTC", "logs": []})
