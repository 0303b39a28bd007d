"""The simulated order world: a mid-sized online retailer that steps one day at a time.

Orders move through the journey stages with attribute-dependent dwell times, exceptions, silent
stalls, cancellations and daily warehouse/carrier capacity with a FIFO backlog. Customers contact
when an order is later than the ETA they were shown. The product can close the loop by passing, per
day, the ETAs it showed and the orders triage acted on. Named drift scenarios switch on at a date.
Everything is vectorised over open orders (the loop runs over transitions within a day, never over
orders) and deterministic for a seed: one `numpy.random.Generator` drives every draw.

`World` only coordinates a day; each part lives in its own module: `arrivals` (new orders),
`stages` (the stage machine) with `dwell`, `capacity` and `exceptions` (exceptions, cancellations,
stalls), `contacts`, `feedback` (shown ETAs and the triage effect) and `state_file` (resuming).
The world is configured in `core/world/world.toml` (`config`); `simulate_to_dir` writes daily
landing files (`feed`). The names other packages use are importable from here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.errors import ConfigError
from core.world.arrivals import place_orders
from core.world.capacity import waiting_for_slots
from core.world.config import (
    SCENARIO_NAMES,
    WORLD_TOML,
    Attribute,
    ExceptionRule,
    Scenario,
    Transition,
    WorldConfig,
    load_world_config,
    parse_date,
    parse_scenarios,
)
from core.world.contacts import draw_contacts
from core.world.defects import CLEAN, FeedDefects, LandingDay, inject, late_file, write_late
from core.world.feed import (
    CONTACTS_SCHEMA,
    EVENTS_SCHEMA,
    ORDERS_SCHEMA,
    PARQUET_COMPRESSION,
    TS_TYPE,
    DayFeed,
    order_journeys,
    stuck_orders,
    write_parquet,
)
from core.world.feedback import apply_shown_etas, apply_triage
from core.world.orders import (
    CANCEL_CODE,
    DELIVERED_CODE,
    N_HAPPY,
    STATE_NAMES,
    append_orders,
    drop_closed,
    empty_orders,
)
from core.world.stages import move_orders
from core.world.state_file import read_state, write_state
from core.world.tables import build_tables
from core.world.timeline import Clock, conditions_on, scenario_active

__all__ = [
    "CANCEL_CODE",
    "CONTACTS_SCHEMA",
    "DELIVERED_CODE",
    "EVENTS_SCHEMA",
    "N_HAPPY",
    "ORDERS_SCHEMA",
    "PARQUET_COMPRESSION",
    "SCENARIO_NAMES",
    "STATE_NAMES",
    "TS_TYPE",
    "WORLD_TOML",
    "Attribute",
    "DayFeed",
    "ExceptionRule",
    "Scenario",
    "Transition",
    "World",
    "WorldConfig",
    "load_world_config",
    "order_journeys",
    "parse_scenarios",
    "simulate_to_dir",
    "stuck_orders",
    "write_parquet",
]

# The landing file kinds in load order, with their schemas.
# Beyond these a simulated world is a typo, not a test world (and overflows dates or numpy).
MAX_DAYS = 3650
MAX_ORDERS_PER_DAY = 1_000_000
LANDING_SCHEMAS = {"orders": ORDERS_SCHEMA, "events": EVENTS_SCHEMA, "contacts": CONTACTS_SCHEMA}


class World:
    """The order world; `step()` advances it by exactly one day and returns that day's feed.

    `scenarios` and `orders_per_day` may be changed between steps; the next step uses them.
    """

    def __init__(
        self,
        config: WorldConfig,
        seed: int,
        start: date,
        scenarios: Sequence[Scenario] = (),
        orders_per_day: int = 3000,
        clean_feed: bool = False,
    ) -> None:
        if not 1 <= orders_per_day <= MAX_ORDERS_PER_DAY:
            raise ConfigError(f"orders_per_day must be from 1 to {MAX_ORDERS_PER_DAY:,}, got {orders_per_day}")
        self.config = config
        self.seed = int(seed)
        self.start = start
        self.scenarios = list(scenarios)
        self.orders_per_day = int(orders_per_day)
        self.clean_feed = bool(clean_feed)  # write the landing files without the config's defects
        self.day = start  # the next day step() simulates
        self.rng = np.random.default_rng(self.seed)
        self._next_gid = 1
        self.clock = Clock(start)
        self.tables = build_tables(config)
        self.open = empty_orders()

    def active(self, name: str, day: date | None = None) -> bool:
        """Whether scenario `name` is switched on for `day` (default: the next day to simulate)."""
        return scenario_active(self.scenarios, name, day or self.day)

    def step(
        self,
        eta_shown: Mapping[str, datetime] | None = None,
        triage_actions: Collection[str] | None = None,
    ) -> DayFeed:
        """Advance one day: apply shown ETAs and the morning's triage, place orders, move them."""
        # The order of these calls is the order of the random draws: keep it for a seed's output.
        day = self.day
        conditions = conditions_on(day, self.clock, self.tables.peak_range, self.scenarios, self.config.scenarios)
        if eta_shown:
            apply_shown_etas(self.open, eta_shown, self.clock.epoch)
        if triage_actions:
            apply_triage(self.rng, self.config.triage, self.open, triage_actions, conditions.start_h)
        arrivals = place_orders(
            self.rng,
            self.tables.arrivals,
            self.config,
            conditions,
            self.orders_per_day,
            self._next_gid,
            self.clock,
        )
        self._next_gid += len(arrivals.rows["gid"])
        self.open = append_orders(self.open, arrivals.rows)
        events = move_orders(
            self.rng,
            self.config,
            self.tables,
            self.clock,
            self.open,
            conditions,
            self.orders_per_day,
        )
        contacts = draw_contacts(
            self.rng,
            self.config.contacts,
            self.clock,
            self.open,
            conditions.start_h,
            conditions.end_h,
        )
        self.open = drop_closed(self.open)
        self.day = day + timedelta(days=1)
        return DayFeed(day=day, orders=arrivals.orders, events=events, contacts=contacts)

    @property
    def feed_defects(self) -> FeedDefects:
        """The defects the landing files carry (none with `clean_feed`)."""
        return CLEAN if self.clean_feed else self.config.feed_defects

    def landing_day(self, feed: DayFeed) -> LandingDay:
        """A day's feed as landing files: the world's true rows with the feed's defects (`defects`)."""
        frames = {"orders": feed.orders, "events": feed.events, "contacts": feed.contacts}
        return inject(frames, LANDING_SCHEMAS, self.feed_defects, self.seed, feed.day)

    def write_feed(self, feed: DayFeed, folder: Path) -> dict[Path, int]:
        """Write a day's landing files into `folder`: the main Parquet of each kind, then the late
        deliveries (CSV) a defective feed has; rows per file, in load order."""
        landing = self.landing_day(feed)
        written: dict[Path, int] = {}
        for kind, frame in landing.main.items():
            path = folder / f"{kind}_{feed.day.isoformat()}.parquet"
            write_parquet(frame, LANDING_SCHEMAS[kind], path)
            written[path] = len(frame)
        for kind, frame in landing.late.items():
            path = late_file(folder, kind, feed.day)
            write_late(frame, path)
            written[path] = len(frame)
        return written

    def backlog(self) -> dict[str, int]:
        """Orders waiting for a capacity slot right now, per warehouse and per carrier."""
        return waiting_for_slots(self.tables.stages, self.tables.values, self.open, self.clock.hours(self.day))

    def save_state(self, path: Path | str) -> None:
        """Write the world's state as plain arrays (npz, never pickle) for a later job to resume."""
        write_state(
            path,
            seed=self.seed,
            start=self.start,
            day=self.day,
            orders_per_day=self.orders_per_day,
            next_gid=self._next_gid,
            scenarios=self.scenarios,
            config_sha256=self.config.sha256,
            rng_state=self.rng.bit_generator.state,
            open_orders=self.open,
            clean_feed=self.clean_feed,
        )

    @classmethod
    def load_state(cls, path: Path | str, config: WorldConfig) -> World:
        """Resume a world saved with `save_state`; the config must be the one it was saved with."""
        saved = read_state(path, config)
        world = cls(
            config,
            seed=saved.seed,
            start=saved.start,
            scenarios=saved.scenarios,
            orders_per_day=saved.orders_per_day,
            clean_feed=saved.clean_feed,
        )
        world.day = saved.day
        world._next_gid = saved.next_gid
        world.rng.bit_generator.state = saved.rng_state
        world.open = {k: saved.open_orders[k].astype(v.dtype) for k, v in world.open.items()}
        return world


def simulate_to_dir(
    out_dir: Path | str,
    days: int,
    orders_per_day: int,
    seed: int = 7,
    start: str | None = None,
    scenarios: Sequence[str] = (),
    config_path: Path | str | None = None,
    progress: bool = True,
    clean_feed: bool = False,
) -> dict[str, Any]:
    """Simulate `days` days and write orders_D/events_D/contacts_D.parquet (plus the day's late
    deliveries of a defective feed, `defects`) and manifest.json."""
    if not isinstance(days, int) or days < 1:
        raise ConfigError(f"simulate: --days must be a whole number ≥ 1, got {days!r}")
    if not isinstance(orders_per_day, int) or orders_per_day < 1:
        raise ConfigError(f"simulate: --orders-per-day must be a whole number ≥ 1, got {orders_per_day!r}")
    if days > MAX_DAYS or orders_per_day > MAX_ORDERS_PER_DAY:
        raise ConfigError(
            f"simulate: at most {MAX_DAYS:,} days of {MAX_ORDERS_PER_DAY:,} orders a day, "
            f"got --days {days} --orders-per-day {orders_per_day}"
        )
    first = parse_date(start, "simulate --start") if start else datetime.now(UTC).date() - timedelta(days=days)
    parsed = parse_scenarios(scenarios)
    config = load_world_config(config_path)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"simulate: cannot create output folder {out} ({exc}); pass a writable --out") from exc
    world = World(
        config, seed=seed, start=first, scenarios=parsed, orders_per_day=orders_per_day, clean_feed=clean_feed
    )
    files, totals = _write_days(world, days, out, progress)
    last = first + timedelta(days=days - 1)
    manifest = {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "days": days,
        "orders_per_day": orders_per_day,
        "seed": seed,
        "scenarios": [f"{s.name}@{s.start.isoformat()}" for s in parsed],
        "world_config_sha256": config.sha256,
        "counts": files,
    }
    if world.feed_defects.active:
        manifest["feed_defects"] = dict(world.feed_defects.shares)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return {
        "out_dir": str(out),
        "start": first.isoformat(),
        "end": last.isoformat(),
        "days": days,
        "seed": seed,
        "scenarios": manifest["scenarios"],
        "files": len(files) + 1,
        **totals,
    }


def _write_days(world: World, days: int, out: Path, progress: bool) -> tuple[dict[str, int], dict[str, int]]:
    """Step the world `days` times, writing each day's landing files; rows per file, and the world's
    true rows per kind."""
    files: dict[str, int] = {}
    totals = {"orders": 0, "events": 0, "contacts": 0}
    for _ in tqdm(range(days), desc="simulate", unit="day", file=sys.stderr, disable=not progress):
        feed = world.step()
        files.update({path.name: rows for path, rows in world.write_feed(feed, out).items()})
        for kind in totals:
            totals[kind] += len(getattr(feed, kind))
    return files, totals
