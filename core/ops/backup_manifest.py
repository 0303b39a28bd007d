"""Reading a backup's manifest and checking the files it names, before a restore touches anything.

A manifest is checked for shape (every key, every type) before any value is used, so a damaged or
hand-edited one gives one line naming the problem, never a traceback. A file of the backup is read
only through real folders inside the backup: a symbolic link anywhere on its path is refused, so a
crafted backup cannot copy a file from elsewhere on the server into `models/`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from core import store
from core.errors import JourneyOpsError

FORMAT = "journeyops-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE_NAME = "store/journeyops.duckdb"
_CHUNK = 1 << 20


class BackupError(JourneyOpsError):
    """A backup cannot be written, or a backup folder is damaged, incomplete or not a backup."""


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_links(file: Path, backup: Path, name: str) -> None:
    """Refuse a path inside the backup that is, or passes through, a symbolic link."""
    current = backup
    for part in file.relative_to(backup).parts:
        current = current / part
        if current.is_symlink():
            raise BackupError(
                f"backup {backup}: {name} is a symbolic link (at {current.relative_to(backup)}); "
                "a backup holds real files only, refusing it"
            )


def safe_relative(name: str, backup: Path) -> Path:
    """The path of a manifest entry, refusing one that would leave the backup folder."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"backup {backup}: manifest names {name!r}, a path outside the backup; refusing it")
    file = backup.joinpath(*relative.parts)
    _refuse_links(file, backup, name)
    return file


def _damaged(manifest_file: Path, problem: str) -> BackupError:
    return BackupError(f"{manifest_file} is damaged ({problem}); use another backup")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_shape(manifest: Any, manifest_file: Path) -> dict[str, Any]:
    """The manifest, if every key the restore reads is there with its type; a BackupError otherwise."""
    if not isinstance(manifest, dict):
        raise _damaged(manifest_file, f"a JSON {type(manifest).__name__}, not an object")
    if manifest.get("format") != FORMAT or not _is_int(manifest.get("format_version")):
        raise BackupError(
            f"{manifest_file.parent} is not a backup this version can read (format {manifest.get('format')!r} "
            f"v{manifest.get('format_version')}); restore it with the JourneyOps version that wrote it"
        )
    if manifest["format_version"] > FORMAT_VERSION:
        raise BackupError(
            f"{manifest_file.parent} is not a backup this version can read (format {FORMAT!r} "
            f"v{manifest['format_version']}); restore it with the JourneyOps version that wrote it"
        )
    for key, kind in (("files", dict), ("counts", dict), ("schema_version", int)):
        if key not in manifest:
            raise _damaged(manifest_file, f"no {key!r}")
        if not isinstance(manifest[key], kind) or (kind is int and not _is_int(manifest[key])):
            raise _damaged(manifest_file, f"{key!r} is a {type(manifest[key]).__name__}, not a {kind.__name__}")
    for name, entry in manifest["files"].items():
        if not (isinstance(entry, dict) and _is_int(entry.get("bytes")) and isinstance(entry.get("sha256"), str)):
            raise _damaged(manifest_file, f"the entry of {name[:80]!r} lacks an integer 'bytes' and a text 'sha256'")
    for table, rows in manifest["counts"].items():
        if not _is_int(rows):
            raise _damaged(manifest_file, f"the row count of {table[:80]!r} is not an integer")
    if not isinstance(manifest.get("champions", {}), dict):
        raise _damaged(manifest_file, "'champions' is not an object")
    return manifest


def read_manifest(backup: Path) -> dict[str, Any]:
    """The backup's manifest, checked for shape."""
    manifest_file = backup / MANIFEST
    if manifest_file.is_symlink():
        raise BackupError(f"backup {backup}: {MANIFEST} is a symbolic link; a backup holds real files only")
    if not manifest_file.exists():
        raise BackupError(
            f"{backup} has no {MANIFEST}: it is not a JourneyOps backup, or the backup never finished; "
            "use another backup"
        )
    try:
        manifest = json.loads(manifest_file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _damaged(manifest_file, "not UTF-8 text") from exc
    except ValueError as exc:
        raise _damaged(manifest_file, f"not JSON: {exc}") from exc
    return _check_shape(manifest, manifest_file)


def verify_backup(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a complete, undamaged backup; a BackupError naming the first problem otherwise."""
    backup = Path(path)
    if not backup.is_dir():
        raise BackupError(f"no backup folder at {backup}")
    manifest = read_manifest(backup)
    files: dict[str, dict[str, Any]] = manifest["files"]
    if STORE_NAME not in files:
        raise BackupError(f"backup {backup} is incomplete: its manifest lists no {STORE_NAME}")
    for name, entry in sorted(files.items()):
        file = safe_relative(name, backup)
        if not file.is_file():
            raise BackupError(f"backup {backup} is incomplete: {name} is missing; use another backup")
        if file.stat().st_size != entry["bytes"]:
            raise BackupError(
                f"backup {backup} is damaged: {name} has {file.stat().st_size} bytes, the manifest says "
                f"{entry['bytes']}; use another backup"
            )
        if sha256_file(file) != entry["sha256"]:
            raise BackupError(
                f"backup {backup} is damaged: {name} does not match its sha256 in the manifest; use another backup"
            )
    code_schema = store.schema_version()
    if manifest["schema_version"] > code_schema:
        raise BackupError(
            f"backup {backup} has schema version {manifest['schema_version']}, newer than this code's "
            f"{code_schema}; upgrade JourneyOps before restoring it"
        )
    return manifest
