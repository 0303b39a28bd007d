"""Benefit assumptions (money values) and benefit targets, stored with their history.

Every save is a new revision that holds every field (the unchanged ones carried over), with who saved
it and why, so the ledger of any week can be recomputed with the assumptions as they stood then.
Until anything is saved, costs are the defaults of `core.domain.CostAssumptions` and targets those of
`BenefitTargets`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import duckdb
import pandas as pd

from core import store
from core.config import StorePath
from core.domain import CostAssumptions, last_instant
from core.errors import ConfigError

Kind = Literal["costs", "targets"]


@dataclass(frozen=True)
class BenefitTargets:
    """Targets the benefits owner sets for the weekly ledger, in each figure's own unit (None: no target)."""

    contacts_per_1000_orders: float | None = 60.0  # inbound contacts per 1,000 orders placed
    sla_breach_pct: float | None = 8.0  # deliveries after the promised date, % of deliveries
    extra_promised_days: float | None = 1.0  # days a first promise lies after the delivery, per delivery
    stuck_caught_early_pct: float | None = 50.0  # stuck orders on the shown list before they got stuck
    lead_time_h: float | None = 24.0  # hours from first on the list to stuck, per order caught early
    triage_value_eur: float | None = 500.0  # triage value measured against the holdout, per week
    total_value_eur: float | None = 1000.0  # all realised value, per week


# Which way is better for each target: the ledger says whether a week meets its target.
LOWER_IS_BETTER: frozenset[str] = frozenset({"contacts_per_1000_orders", "sla_breach_pct", "extra_promised_days"})

_T = TypeVar("_T", CostAssumptions, BenefitTargets)
_CLASSES: dict[str, type] = {"costs": CostAssumptions, "targets": BenefitTargets}


def _when(at: datetime | date | str | None) -> datetime | None:
    """A day means the end of that day: the assumptions as they stood that evening."""
    if at is None:
        return None
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at) if "T" in at or " " in at else date.fromisoformat(at)
        except ValueError as exc:
            raise ConfigError(f"cannot read {at!r} as a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc
    if isinstance(at, datetime):
        return at
    return last_instant(at)


def _load(kind: Kind, cls: type[_T], store_path: StorePath, at: datetime | date | str | None) -> _T:
    try:
        rows = store.fetch_df("benefits_assumptions_read", {"kind": kind, "at": _when(at)}, store_path)
    except duckdb.CatalogException:
        # A store from before schema 008, opened read-only: nothing was ever saved.
        return cls()
    return _from_rows(cls, rows)


def _from_rows(cls: type[_T], rows: pd.DataFrame) -> _T:
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {
        name: (None if pd.isna(value) else float(value))
        for name, value in zip(rows["name"], rows["value"], strict=True)
        if name in known  # a field since removed from the code is ignored
    }
    return replace(cls(), **values)  # type: ignore[arg-type]  # the checked fields of cls


def _check(kind: Kind, cls: type, values: Mapping[str, Any]) -> dict[str, float | None]:
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown {kind} field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    checked: dict[str, float | None] = {}
    for name, value in values.items():
        if value is None and kind == "targets":
            checked[name] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{kind} field {name} must be a number, got {value!r}") from None
        if not math.isfinite(number) or (kind == "costs" and number < 0):
            raise ConfigError(f"{kind} field {name} must be a finite number >= 0, got {value!r}")
        checked[name] = number
    return checked


def _save(
    kind: Kind, cls: type[_T], values: Mapping[str, Any] | _T, actor: str, reason: str, store_path: StorePath
) -> _T:
    if not actor or not actor.strip():
        raise ConfigError(f"saving {kind} needs an actor: who changes them")
    if not reason or not reason.strip():
        raise ConfigError(f"saving {kind} needs a reason (--reason): why they change")
    given: dict[str, Any] = asdict(values) if isinstance(values, (CostAssumptions, BenefitTargets)) else dict(values)
    changes: dict[str, Any] = _check(kind, cls, given)
    saved_at = store.utcnow()
    with store.transaction(store_path) as con:
        # Read the current revision inside the write transaction, so two savers cannot lose a change.
        current = con.execute(store.load_sql("benefits_assumptions_read"), {"kind": kind, "at": None}).df()
        merged = replace(_from_rows(cls, current), **changes)  # type: ignore[arg-type]
        row = con.execute(store.load_sql("benefits_assumptions_next_revision"), {"kind": kind}).fetchone()
        revision = int(row[0]) if row else 1
        sql = store.load_sql("benefits_assumptions_insert")
        for name, value in asdict(merged).items():
            con.execute(
                sql,
                {
                    "kind": kind,
                    "revision": revision,
                    "name": name,
                    "value": value,
                    "actor": actor.strip(),
                    "reason": reason.strip(),
                    "saved_at": saved_at,
                },
            )
    return merged


def load_assumptions(store_path: StorePath = None, at: datetime | date | str | None = None) -> CostAssumptions:
    """The cost assumptions as they stood at `at` (a day: its end; default: now); defaults if never saved."""
    return _load("costs", CostAssumptions, store_path, at)


def save_assumptions(
    values: Mapping[str, Any] | CostAssumptions, *, actor: str, reason: str, store_path: StorePath = None
) -> CostAssumptions:
    """Save a new revision of the cost assumptions (fields not given keep their current value); return it."""
    return _save("costs", CostAssumptions, values, actor, reason, store_path)


def load_targets(store_path: StorePath = None, at: datetime | date | str | None = None) -> BenefitTargets:
    """The benefit targets as they stood at `at` (a day: its end; default: now); defaults if never saved."""
    return _load("targets", BenefitTargets, store_path, at)


def save_targets(
    values: Mapping[str, Any] | BenefitTargets, *, actor: str, reason: str, store_path: StorePath = None
) -> BenefitTargets:
    """Save a new revision of the benefit targets (None clears a target); return it."""
    return _save("targets", BenefitTargets, values, actor, reason, store_path)


def assumption_history(kind: Kind = "costs", store_path: StorePath = None) -> pd.DataFrame:
    """Every saved revision of costs or targets (grain: revision × field), newest first."""
    if kind not in _CLASSES:
        raise ConfigError(f"unknown kind {kind!r}; use costs or targets")
    try:
        return store.fetch_df("benefits_assumptions_history", {"kind": kind}, store_path)
    except duckdb.CatalogException:
        return pd.DataFrame(columns=["kind", "revision", "saved_at", "actor", "reason", "name", "value"])
