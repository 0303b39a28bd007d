"""A world's state on disk, so a later job can resume it: plain arrays in an npz, never a pickle.

The file holds the open orders, the random generator's state and what the world was started with;
it records the config's fingerprint and refuses to resume under a different world.toml.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.world.config import Scenario, WorldConfig, parse_scenarios


@dataclass(frozen=True)
class SavedWorld:
    """What a world file holds, read back; `open_orders` still in the file's dtypes."""

    seed: int
    start: date
    day: date
    orders_per_day: int
    next_gid: int
    scenarios: list[Scenario]
    rng_state: dict[str, Any]
    open_orders: dict[str, np.ndarray]
    clean_feed: bool = False


def write_state(
    path: Path | str,
    *,
    seed: int,
    start: date,
    day: date,
    orders_per_day: int,
    next_gid: int,
    scenarios: Sequence[Scenario],
    config_sha256: str,
    rng_state: Mapping[str, Any],
    open_orders: Mapping[str, np.ndarray],
    clean_feed: bool = False,
) -> None:
    """Write a world's state as an npz of its open-order columns plus a JSON `meta` entry."""
    meta = {
        "seed": seed,
        "start": start.isoformat(),
        "day": day.isoformat(),
        "orders_per_day": orders_per_day,
        "next_gid": next_gid,
        "scenarios": [f"{s.name}@{s.start.isoformat()}" for s in scenarios],
        "config_sha256": config_sha256,
        "rng": rng_state,
        "clean_feed": clean_feed,
    }
    arrays: dict[str, Any] = {f"open_{k}": v for k, v in open_orders.items()}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def read_state(path: Path | str, config: WorldConfig) -> SavedWorld:
    """Read a state written by `write_state`; it must have been saved under the same config."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k[5:]: data[k] for k in data.files if k.startswith("open_")}
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"world state {path}: cannot be read ({exc}); save it again with World.save_state") from exc
    if meta["config_sha256"] != config.sha256:
        raise ConfigError(
            f"world state {path}: was saved with a different world.toml; resume with "
            "the same config or start a new world"
        )
    return SavedWorld(
        seed=meta["seed"],
        start=date.fromisoformat(meta["start"]),
        day=date.fromisoformat(meta["day"]),
        orders_per_day=meta["orders_per_day"],
        next_gid=int(meta["next_gid"]),
        scenarios=parse_scenarios(meta["scenarios"]),
        rng_state=meta["rng"],
        open_orders=arrays,
        clean_feed=bool(meta.get("clean_feed", False)),
    )
