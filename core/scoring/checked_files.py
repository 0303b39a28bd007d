"""Files derived once and read on every run (a champion's reference sample and drift thresholds),
written with a checksum beside them and verified when read.

The checksum (`<file>.sha256`) is written when the file is, after it is complete; a reader reads the
bytes once, checks them and parses those same bytes. A file whose bytes do not match, or that has
no checksum, is refused with a `CheckedFileError` naming the file and what to do: a damaged file
would crash the run, and an edited thresholds file would silently change which alerts fire.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from core.errors import JourneyOpsError


class CheckedFileError(JourneyOpsError):
    """A derived file does not match the checksum recorded when it was written (or has none)."""


def checksum_file(path: Path) -> Path:
    """Where a file's checksum is kept."""
    return path.with_name(path.name + ".sha256")


def write_checked(path: Path, data: bytes) -> None:
    """Write the bytes and their checksum; each appears whole (staged, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, content in ((path, data), (checksum_file(path), hashlib.sha256(data).hexdigest().encode())):
        staged = target.with_name(target.name + ".tmp")
        staged.write_bytes(content)
        os.replace(staged, target)


def read_checked(path: Path) -> bytes:
    """The file's bytes, if they match the checksum recorded when it was written."""
    data = path.read_bytes()
    recorded = checksum_file(path)
    fix = f"delete {path.name} and its .sha256 (in {path.parent}) to rebuild it from the store"
    if not recorded.is_file():
        raise CheckedFileError(f"{path} has no recorded checksum, so it cannot be trusted; {fix}")
    expected = recorded.read_text().strip()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise CheckedFileError(
            f"{path} was changed after it was written (sha256 {actual[:12]}…, recorded {expected[:12]}…); "
            f"it was not used; {fix}"
        )
    return data
