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
