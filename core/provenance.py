"""Which code a generated figure was measured on: the repository's commit, marked when the measured
code differs from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def source_commit(root: Path = REPO_ROOT) -> str | None:
    """HEAD's short hash, with `-dirty` when tracked files outside docs/ differ from it (the figures then
    measured code no commit holds; the docs, generated pages among them, are not measured code); None
    outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    if head.returncode != 0 or not commit:
        return None
    return f"{commit}-dirty" if changed.returncode == 0 and changed.stdout.strip() else commit
