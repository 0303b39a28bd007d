"""The defects a real feed has, injected where the world's day feed becomes landing files.

The world's history is never touched: `World.step` returns the true day and only the files written
from it carry defects, so the contract's work is exactly to remove what was injected here.
For a day D the files are the day's main extract (`<kind>_D.parquet`, typed) and, when anything is
late or re-sent, the day's late delivery (`<kind>_late_D.csv`, text, loaded by the same run):

- valid, and loaded: `late` events (missing from the main file, in the late delivery), events
  `out_of_order` (listed before the events that preceded them) and `exact_resend`s (a row sent
  twice; the ingest counts the copy as a duplicate);
- quarantined, as extra copies of real rows in the late delivery (the original still loads):
  `changed_resend` (same id, changed content), `missing_field` (a required field left empty),
  `unknown_stage`, `unparseable_ts` and `future_ts` (a year typed wrong).

The shares come from `[feed_defects]` in world.toml; the draws use their own random stream per seed
and day, so the world's own draws (and a clean feed's bytes) do not change.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import ConfigError

SORTS: tuple[str, ...] = (
    "late",
    "out_of_order",
    "exact_resend",
    "changed_resend",
    "missing_field",
    "unknown_stage",
    "unparseable_ts",
    "future_ts",
)
# Sorts that only events have (an order or a contact has no stage, and is never late here).
EVENT_SORTS = frozenset({"late", "out_of_order", "unknown_stage"})
# Sorts that add a copy of a real row to the late delivery, in this order of the draw.
COPY_SORTS: tuple[str, ...] = (
    "exact_resend",
    "changed_resend",
    "missing_field",
    "unknown_stage",
    "unparseable_ts",
    "future_ts",
)
KINDS: tuple[str, ...] = ("orders", "events", "contacts")
ID_COLUMN = {"orders": "order_id", "events": "event_id", "contacts": "contact_id"}
# The fields the contract requires (an empty one quarantines the row) and the checked timestamps.
REQUIRED = {
    "orders": ("order_id", "placed_at"),
    "events": ("event_id", "order_id", "stage", "event_ts"),
    "contacts": ("contact_id", "order_id", "contact_at"),
}
TIMESTAMP = {"orders": ("placed_at", "promised_at"), "events": ("event_ts",), "contacts": ("contact_at",)}
UNKNOWN_STAGES: tuple[str, ...] = ("in_transit", "returned_to_sender", "SHIPPED")
# Own random stream: seeded with (this, seed, day) so no draw of the world moves.
_STREAM = 0xFEED


@dataclass(frozen=True)
class FeedDefects:
    """Share of a day's rows (of each landing file kind) with each sort of defect; all 0 = clean."""

    shares: Mapping[str, float] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(v > 0 for v in self.shares.values())

    def share(self, sort: str) -> float:
        return float(self.shares.get(sort, 0.0))


CLEAN = FeedDefects()


def read_feed_defects(section: Mapping[str, Any] | None) -> FeedDefects:
    """`[feed_defects]` of world.toml: `share` (of a day's rows in all) split by `mix` weights."""
    if not section:
        return CLEAN
    share = float(section.get("share", 0.0))
    mix = {str(k): float(v) for k, v in dict(section.get("mix", {})).items()}
    unknown = set(mix) - set(SORTS)
    if unknown:
        raise ConfigError(
            f"world config: [feed_defects.mix] has unknown sorts {sorted(unknown)}; use {', '.join(SORTS)}"
        )
    if not 0.0 <= share <= 0.2 or min(mix.values(), default=0.0) < 0:
        raise ConfigError("world config: [feed_defects] share must be within 0..0.2 and mix weights non-negative")
    total = sum(mix.values())
    if share == 0 or total == 0:
        return CLEAN
    return FeedDefects({sort: share * mix.get(sort, 0.0) / total for sort in SORTS})


@dataclass
class LandingDay:
    """A day's landing files before writing: typed main frames, text late deliveries, and what the
    contract will find in them (quarantine reasons and duplicate rows, by kind)."""

    main: dict[str, pd.DataFrame]
    late: dict[str, pd.DataFrame]
    reasons: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    moved: Counter[str] = field(default_factory=Counter)  # late and out-of-order events


def defect_rng(seed: int, day: date) -> np.random.Generator:
    """The defects' own random stream for a seed and day."""
    return np.random.default_rng([_STREAM, int(seed), day.toordinal()])


def _count(rng: np.random.Generator, rows: int, share: float, at_least_one: bool) -> int:
    """Rows of a sort: rows × share, rounded at random to a whole number (expected value kept)."""
    if rows == 0 or share <= 0:
        return 0
    exact = rows * share
    n = math.floor(exact) + int(rng.random() < exact - math.floor(exact))
    return max(n, 1 if at_least_one else 0)


def _ts_text(values: pd.Series) -> pd.Series:
    """Timestamps as ISO-8601 text with Z (the contract needs an offset); empty for none."""
    stamps = pd.to_datetime(values, utc=True)
    whole = (stamps.dt.microsecond == 0).all()
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ" if whole else "%Y-%m-%dT%H:%M:%S.%fZ")
    return text.where(stamps.notna(), "")


def as_text(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """A landing frame as the text a CSV carries: timestamps with Z, numbers in shortest form."""
    out = pd.DataFrame(index=frame.index)
    for column in schema:
        values = frame[column.name]
        if pa.types.is_timestamp(column.type):
            out[column.name] = _ts_text(values)
        else:
            out[column.name] = values.map(lambda v: "" if v is None or v != v else str(v)).astype(object)
    return out


def _changed(rng: np.random.Generator, kind: str, copies: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """The same ids with changed content: a corrected clock, price or contact reason."""
    if kind == "events":
        minutes = pd.to_timedelta(rng.integers(1, 60, len(source)), unit="m")
        copies["event_ts"] = _ts_text(pd.to_datetime(source["event_ts"], utc=True) - minutes).to_numpy()
    elif kind == "orders":
        copies["order_value"] = [str(round(float(v) + 1.0, 2)) for v in source["order_value"]]
    else:
        copies["reason"] = [f"{r}_update" for r in source["reason"]]
    return copies


def _bad_timestamps(
    rng: np.random.Generator, kind: str, sort: str, copies: pd.DataFrame, source: pd.DataFrame
) -> list[str]:
    """Break one timestamp of each copy (in place): unparseable, or a year ahead; the reasons."""
    choices = TIMESTAMP[kind] if sort == "unparseable_ts" else TIMESTAMP[kind][:1]
    reasons = []
    for i, (row, pick) in enumerate(zip(copies.index, rng.integers(0, len(choices), len(copies)), strict=True)):
        name = choices[pick]
        stamp = pd.Timestamp(source[name].iloc[i])
        if sort == "unparseable_ts":
            # a local format (day first, no zone) or a placeholder: neither is a timestamp
            copies.loc[row, name] = f"{stamp:%d.%m.%Y %H:%M}" if i % 2 == 0 else "n/a"
            reasons.append(f"unparseable {name}")
        else:
            copies.loc[row, name] = _ts_text(pd.Series([stamp + pd.DateOffset(years=1)])).iloc[0]
            reasons.append(f"{name} in the future")
    return reasons


def _mutate(
    rng: np.random.Generator, kind: str, sort: str, copies: pd.DataFrame, source: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Turn text copies of real rows into one sort of defect; the reasons the contract gives them
    (none for an exact re-send, which loads as a duplicate)."""
    copies = copies.copy()
    n = len(copies)
    if sort == "exact_resend":
        return copies, []
    if sort == "changed_resend":
        return _changed(rng, kind, copies, source), [
            f"{ID_COLUMN[kind]} already in an earlier file with different content"
        ] * n
    if sort == "missing_field":
        fields = [REQUIRED[kind][i] for i in rng.integers(0, len(REQUIRED[kind]), n)]
        for row, name in zip(copies.index, fields, strict=True):
            copies.loc[row, name] = ""
        return copies, [f"missing {name}" for name in fields]
    if sort == "unknown_stage":
        stages = [UNKNOWN_STAGES[i] for i in rng.integers(0, len(UNKNOWN_STAGES), n)]
        copies["stage"] = stages
        return copies, [f"unknown stage '{s}'" for s in stages]
    return copies, _bad_timestamps(rng, kind, sort, copies, source)


def inject(
    frames: Mapping[str, pd.DataFrame], schemas: Mapping[str, pa.Schema], defects: FeedDefects, seed: int, day: date
) -> LandingDay:
    """The day's landing files with the configured defects (the frames as they are if clean)."""
    landing = LandingDay(main=dict(frames), late={})
    if not defects.active:
        return landing
    rng = defect_rng(seed, day)
    for kind in KINDS:
        frame = frames[kind].reset_index(drop=True)
        counts = {
            sort: _count(rng, len(frame), defects.share(sort), at_least_one=kind == "events")
            if kind == "events" or sort not in EVENT_SORTS
            else 0
            for sort in SORTS
        }
        # Disjoint rows for every sort: a row and its altered copy never share a file.
        order = rng.permutation(len(frame))
        picked: dict[str, np.ndarray] = {}
        start = 0
        for sort in SORTS:
            picked[sort] = np.sort(order[start : start + counts[sort]])
            start += counts[sort]
        late_rows = picked["late"]
        parts = [as_text(frame.iloc[late_rows], schemas[kind])]
        for sort in COPY_SORTS:
            source = frame.iloc[picked[sort]]
            if source.empty:
                continue
            copies, reasons = _mutate(rng, kind, sort, as_text(source, schemas[kind]), source)
            parts.append(copies)
            landing.reasons.update(reasons)
            if sort == "exact_resend":
                landing.duplicates[kind] += len(copies)
        late = pd.concat(parts, ignore_index=True)
        if len(late):
            landing.late[kind] = late.iloc[rng.permutation(len(late))].reset_index(drop=True)
        keep = np.setdiff1d(np.arange(len(frame)), late_rows)
        early = np.intersect1d(keep, picked["out_of_order"])
        rest = np.setdiff1d(keep, early)
        landing.main[kind] = frame.iloc[np.concatenate([early, rest])].reset_index(drop=True)
        landing.moved[kind] += len(late_rows) + len(early)
    return landing


def late_file(folder: Path, kind: str, day: date) -> Path:
    """The day's late delivery of one kind (its day in the name, so a run through D loads it)."""
    return folder / f"{kind}_late_{day.isoformat()}.csv"


def write_late(frame: pd.DataFrame, path: Path) -> None:
    """Write a late delivery as UTF-8 CSV, every value as text, empty for none."""
    frame.to_csv(path, index=False, lineterminator="\n")
