"""Settings and the one place for paths; every path can be overridden from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeAlias

# A store file as every function takes it: a path, or None for the configured default store.
StorePath: TypeAlias = str | os.PathLike[str] | None
REPO_ROOT = Path(__file__).resolve().parent.parent


def store_path(override: StorePath = None) -> Path:
    """The DuckDB store: an explicit path, else $JOURNEYOPS_STORE, else data/journeyops.duckdb."""
    if override:
        return Path(override)
    env = os.environ.get("JOURNEYOPS_STORE")
    return Path(env) if env else REPO_ROOT / "data" / "journeyops.duckdb"


def models_dir(store: Path) -> Path:
    """Model artifacts of a store: $JOURNEYOPS_MODELS, else models/ for the default store,
    else a folder beside the store (so a test or an imported log never mixes with the demo)."""
    env = os.environ.get("JOURNEYOPS_MODELS")
    if env:
        return Path(env)
    if store.resolve() == (REPO_ROOT / "data" / "journeyops.duckdb").resolve():
        return REPO_ROOT / "models"
    return store.parent / f"{store.stem}_models"


DEFAULT_DUCKDB_MEMORY = "1GB"


def duckdb_memory_limit() -> str | None:
    """DuckDB's memory limit per connection: $JOURNEYOPS_DUCKDB_MEMORY (e.g. "4GB"; "default" keeps
    DuckDB's own, 80% of the machine's RAM), else 1 GB. Past it DuckDB spills joins, sorts and
    aggregates to a folder beside the store instead of growing: a daily run over a million open
    orders stays under 2 GB (docs/benchmarks.md) and a job stays inside its container's limit."""
    value = os.environ.get("JOURNEYOPS_DUCKDB_MEMORY", "").strip() or DEFAULT_DUCKDB_MEMORY
    return None if value.lower() == "default" else value


def lock_wait_seconds() -> float:
    """How long a connection waits for another process's write lock before giving up."""
    return float(os.environ.get("JOURNEYOPS_LOCK_WAIT_S", "15"))


DEFAULT_EARLIEST_TIMESTAMP = "2000-01-01"
DEFAULT_MAX_TEXT_CHARS = 1000


def earliest_timestamp() -> str:
    """The earliest plausible timestamp of a fed row (ISO date): $JOURNEYOPS_EARLIEST_TIMESTAMP, else
    2000-01-01. An epoch-zero 1970 value is a producer's default, not a real order."""
    return os.environ.get("JOURNEYOPS_EARLIEST_TIMESTAMP", "").strip() or DEFAULT_EARLIEST_TIMESTAMP


def max_text_chars() -> int:
    """The longest text value a fed row may carry: $JOURNEYOPS_MAX_TEXT_CHARS, else 1,000 characters."""
    return int(os.environ.get("JOURNEYOPS_MAX_TEXT_CHARS", "").strip() or DEFAULT_MAX_TEXT_CHARS)


DEFAULT_MAX_DECOMPRESSED_MB = 1024
DEFAULT_MAX_GZIP_RATIO = 200


def max_decompressed_bytes() -> int:
    """The most a compressed input may inflate to: $JOURNEYOPS_MAX_DECOMPRESSED_MB, else 1,024 MB."""
    value = os.environ.get("JOURNEYOPS_MAX_DECOMPRESSED_MB", "").strip()
    return int(float(value or DEFAULT_MAX_DECOMPRESSED_MB) * 1024 * 1024)


def max_gzip_ratio() -> float:
    """The most a compressed input may inflate per compressed byte: $JOURNEYOPS_MAX_GZIP_RATIO, else 200.
    Real CSV and XES compress 5-30 times; a thousandfold stream is a bomb, whatever its size."""
    return float(os.environ.get("JOURNEYOPS_MAX_GZIP_RATIO", "").strip() or DEFAULT_MAX_GZIP_RATIO)


DEFAULT_DISPLAY_TZ = "UTC"


def display_timezone() -> str:
    """The time zone pages show times in: $JOURNEYOPS_DISPLAY_TZ (an IANA name, e.g. Europe/Berlin),
    else UTC. The store keeps every time in UTC; an unknown zone falls back to UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("JOURNEYOPS_DISPLAY_TZ", "").strip() or DEFAULT_DISPLAY_TZ
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_DISPLAY_TZ
    return name
