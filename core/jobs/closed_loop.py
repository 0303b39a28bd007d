"""The closed loop with the simulated world: advancing it one day from the store, and the demo history.

Each day the world is told what the product decided the evening before — the ETAs customers see from
that morning and the orders the triage team worked from the previous list — and its feed for the day
lands as files that the daily run ingests. The world's state is saved beside the store (npz, never
pickle), so `python -m core daily --as-of D` in a later process advances the same world.

The demo history: a pre-model period (static promises, no triage list), a go-live day on which a
first champion is trained and promoted, and then the closed loop — model ETAs shown, a simulated
triage team working the top of the list each morning — with a drift scenario switched on part-way.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from core import config, store
from core.config import StorePath
from core.domain import MODEL_KINDS, end_of_day
from core.errors import ConfigError
from core.ingest import landing
from core.jobs import daily, daily_settings, retraining
from core.registry.gate import load_gate_policy
from core.world import defects, simulate

FEED_SCHEMAS = (
    ("orders", simulate.ORDERS_SCHEMA),
    ("events", simulate.EVENTS_SCHEMA),
    ("contacts", simulate.CONTACTS_SCHEMA),
)


def landing_dir(store_path: StorePath = None) -> Path:
    """Where the simulated world's daily files land (beside the store, as the demo has always put them)."""
    return config.store_path(store_path).parent / "landing"


def world_state_file(store_path: StorePath = None) -> Path:
    """Where the simulated world's state is kept between processes."""
    path = config.store_path(store_path)
    return path.with_name(f"{path.stem}_world.npz")


def save_world(world: simulate.World, path: Path) -> None:
    """Save the world's state atomically (a crash leaves the previous state, never half a file)."""
    staged = path.with_name(path.name + ".tmp")
    world.save_state(staged)
    os.replace(staged, path)


def load_world(store_path: StorePath = None) -> simulate.World | None:
    """The store's simulated world, or None when the store is not fed by one."""
    path = world_state_file(store_path)
    if not path.exists():
        return None
    return simulate.World.load_state(path, simulate.load_world_config())


def _feedback(as_of: date, store_path: StorePath) -> tuple[dict[str, datetime], list[str]]:
    """ETAs customers see from `as_of` and orders triage worked from the previous morning's list."""
    if not config.store_path(store_path).exists():
        return {}, []
    with store.connect(store_path, read_only=True) as con:
        etas = con.execute(store.load_sql("daily_eta_for_day"), {"shown_from": as_of}).df()
        acted = con.execute(store.load_sql("daily_actions_for_list"), {"as_of_date": as_of - timedelta(days=1)}).df()
    eta_shown = dict(zip(etas["order_id"], pd.to_datetime(etas["eta_at"]).dt.tz_localize("UTC"), strict=True))
    return eta_shown, sorted(acted["order_id"])


def day_files(folder: Path, day: date) -> list[Path]:
    """The landing files the world writes for one day: the main Parquet files, then the late
    deliveries (CSV) of a defective feed that exist (see core.world.defects)."""
    main = [folder / f"{kind}_{day.isoformat()}.parquet" for kind, _ in FEED_SCHEMAS]
    return main + [p for kind, _ in FEED_SCHEMAS if (p := defects.late_file(folder, kind, day)).exists()]


def advance_world(
    world: simulate.World,
    as_of: date,
    store_path: StorePath = None,
    folder: Path | None = None,
    state_file: Path | None = None,
) -> list[Path]:
    """Step the world through `as_of` with yesterday's decisions and write the day's landing files;
    the files of the day. A day already simulated is not simulated again (a re-run)."""
    folder = folder or landing_dir(store_path)
    if world.day > as_of:
        files = [p for p in day_files(folder, as_of) if p.exists()]
        return files
    if world.day < as_of:
        raise ConfigError(
            f"the simulated world has only reached {world.day}; run the days before {as_of} first "
            f"(python -m core backfill --from {world.day} --to {as_of})"
        )
    eta_shown, worked = _feedback(as_of, store_path)
    feed = world.step(eta_shown=eta_shown or None, triage_actions=worked or None)
    folder.mkdir(parents=True, exist_ok=True)
    files = list(world.write_feed(feed, folder))
    if state_file is not None:
        save_world(world, state_file)
    return files


def world_feed(
    world: simulate.World, store_path: StorePath = None, folder: Path | None = None, state_file: Path | None = None
) -> daily.DayFeed:
    """The daily run's day feed from a simulated world: each day steps the world (see `advance_world`)."""

    def feed(as_of: date) -> list[Path]:
        return advance_world(world, as_of, store_path, folder, state_file)

    return feed


def reset_store(store_file: Path) -> None:
    """Remove a store, its models, world state and landing files (demo --fresh)."""
    store_file.unlink(missing_ok=True)
    store_file.with_name(store_file.name + ".wal").unlink(missing_ok=True)
    for kind in MODEL_KINDS:
        shutil.rmtree(config.models_dir(store_file) / kind, ignore_errors=True)
    shutil.rmtree(config.models_dir(store_file) / "reference", ignore_errors=True)
    world_state_file(store_file).unlink(missing_ok=True)
    shutil.rmtree(landing_dir(store_file), ignore_errors=True)


def _build_pre_model(world: simulate.World, first: date, last: date, store_file: Path, progress: bool) -> None:
    """The pre-model period in bulk: the world steps with no feedback (nothing is shown but the static
    promise, nobody triages), its files are ingested in one go and the static promises recorded."""
    folder = landing_dir(store_file)
    for _ in tqdm(range((last - first).days + 1), desc="pre-model", unit="day", file=sys.stderr, disable=not progress):
        feed = world.step()
        folder.mkdir(parents=True, exist_ok=True)
        world.write_feed(feed, folder)
    landing.ingest_paths([folder], store_path=store_file, through=last)
    with store.transaction(store_file) as con:
        con.execute(store.load_sql("daily_eta_insert_static"), {"from_date": first, "to_date": last})


def demo_settings() -> daily_settings.DailySettings:
    """Daily settings of the demo: retrains bounded in rows and boosting rounds, so the whole history
    builds within its budget, a retrain a week, and auto-promotion: the demo has nobody to approve a
    promotion, so a challenger that passes the gate serves at once."""
    return daily_settings.DailySettings(
        retrain_max_rows=20_000,
        retrain_params={"max_iter": 100},
        retrain_every_days=7,
        notify=False,
        gate=replace(load_gate_policy(), auto_promote=True),
    )


def _scenarios(scenario: str | None, start: date) -> list[simulate.Scenario]:
    if not scenario:
        return []
    if scenario not in simulate.SCENARIO_NAMES:
        raise ConfigError(f"demo: unknown scenario {scenario!r}; one of {', '.join(simulate.SCENARIO_NAMES)}")
    return [simulate.Scenario(scenario, start)]


def _go_live(store_file: Path, go_live: date, settings: daily_settings.DailySettings) -> dict[str, Any]:
    """The first champion: trained on what was known the evening before go-live and promoted at once."""
    return retraining.retrain(
        store_file,
        as_of=end_of_day(go_live - timedelta(days=1)),
        actor="demo go-live",
        policy=replace(load_gate_policy(), auto_promote=True),
        max_rows=settings.retrain_max_rows,
        model_params=settings.retrain_params,
    )


def build_demo_history(
    store_path: StorePath = None,
    *,
    days: int,
    orders_per_day: int,
    seed: int = 7,
    pre_model_days: int | None = None,
    scenario: str | None = "new_carrier",
    scenario_after_days: int = 7,
    end: date | None = None,
    train: bool = True,
    settings: daily_settings.DailySettings | None = None,
    progress: bool = True,
    clean_feed: bool = False,
) -> dict[str, Any]:
    """Build the closed-loop demo history in a fresh store: `pre_model_days` of static promises, a
    go-live (a first champion trained and promoted), then the loop until `end` (default yesterday),
    with `scenario` switched on `scenario_after_days` after go-live. Without `train` the whole history
    stays pre-model. The landing files carry world.toml's feed defects unless `clean_feed`."""
    if days < 2:
        raise ConfigError(f"demo: --days must be at least 2, got {days}")
    settings = settings or daily_settings.DailySettings()
    last = end or (datetime.now(UTC).date() - timedelta(days=1))
    first = last - timedelta(days=days - 1)
    pre = days if not train else (pre_model_days if pre_model_days is not None else max(days * 2 // 3, 1))
    if pre >= days and train:
        raise ConfigError(f"demo: the pre-model period ({pre} days) leaves no days after go-live; shorten it")
    go_live = first + timedelta(days=pre)
    scenarios = _scenarios(scenario, go_live + timedelta(days=scenario_after_days)) if train else []
    store_file = config.store_path(store_path)
    world = simulate.World(
        simulate.load_world_config(),
        seed=seed,
        start=first,
        scenarios=scenarios,
        orders_per_day=orders_per_day,
        clean_feed=clean_feed,
    )
    state = world_state_file(store_file)
    outcome: dict[str, Any] = {"start": first.isoformat(), "end": last.isoformat(), "go_live": None}
    outcome["scenarios"] = [f"{s.name}@{s.start.isoformat()}" for s in scenarios]
    _build_pre_model(world, first, go_live - timedelta(days=1), store_file, progress)
    save_world(world, state)
    if not train:
        return outcome
    trained = _go_live(store_file, go_live, settings)
    outcome["go_live"] = go_live.isoformat()
    outcome["versions"] = {kind: f"{v['version']} is {v['status']}" for kind, v in trained["versions"].items()}
    folder = landing_dir(store_file)
    days_run = daily.run_backfill(
        go_live,
        last,
        store_file,
        feed=world_feed(world, store_file, folder, state),
        landing_dir=folder,
        settings=settings,
        retrain=True,
        progress=progress,
    )
    outcome["alerts"] = int(sum(d["alerts"] for d in days_run))
    outcome["retrains"] = [d["retrain"] for d in days_run if d.get("retrain")]
    outcome["seconds_per_day"] = round(sum(d["seconds"] for d in days_run) / max(len(days_run), 1), 2)
    return outcome
