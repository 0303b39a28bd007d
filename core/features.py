"""Point-in-time prefix features of order journeys, computed set-based in SQL.

A *prefix* is an order as it stood at an as-of instant: the events it had by then (ordinal <= k) and
nothing later. Features at t use only events with event_ts <= t; inter-case load counts only what
happened strictly before t. Prefixes come from one of three generators:
- ``events``: one prefix per event (prefix k = state right after the k-th event, as of its time), the
  protocol of the predictive-process-monitoring literature and of imported logs;
- ``snapshots``: every open order at a grid of instants (the order world's training sets);
- ``single``: every open order at one instant (daily scoring).

Attributes of imported logs (JSON on orders and events, any names) are expanded generically;
attributes computed from the whole case (ids, variant labels, dates) are found by a general rule and
dropped (`find_leaking_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from core import domain, store
from core.config import StorePath
from core.engine import Engine
from core.engine.duckdb_engine import open_store
from core.errors import ConfigError

PrefixMode = Literal["events", "snapshots", "single"]
Completion = Literal["terminal", "last_event"]

KEY_COLUMNS: tuple[str, ...] = ("order_id", "prefix_len", "as_of_at")
# Columns that describe a prefix but are not model inputs.
INFO_COLUMNS: tuple[str, ...] = ("prefix_id", "order_id", "as_of_at", "order_started_at", "variant")
TARGET_COLUMNS: tuple[str, ...] = (
    "order_ended_at",
    "order_ended_stage",
    "order_events",
    "remaining_h",
    "stuck_label",
)
BASE_CATEGORICAL: tuple[str, ...] = (
    "current_stage",
    "prev_stage_1",
    "prev_stage_2",
    *domain.CATEGORICAL_ATTRIBUTES,
)
ACTIVITY_PREFIX = "count__"
EVENT_ATTR_PREFIX = "event__"
CASE_ATTR_PREFIX = "case__"
MAX_ACTIVITY_COLUMNS = 60
# An attribute whose values parse as numbers this often is numeric.
NUMERIC_SHARE = 0.98
# Work in progress forgets an order with no news for this long (imported logs have no terminal stage).
WIP_HORIZON_H = 24 * 30


def detect_completion(store_path: StorePath = None, engine: Engine | None = None) -> Completion:
    """'terminal' when the store holds the order world's stages, else 'last_event' (an imported log)."""
    if engine is None:
        with open_store(store_path) as duck:
            return detect_completion(engine=duck)
    counts = engine.frame(
        "select count(*) filter (where not list_contains($known, stage)) as unknown, count(*) as total from events",
        {"known": sorted(domain.KNOWN_STAGES)},
    )
    unknown, total = (int(counts["unknown"].iloc[0]), int(counts["total"].iloc[0])) if len(counts) else (0, 0)
    return "terminal" if total > 0 and unknown == 0 else "last_event"


def _params(as_of: datetime, completion: Completion, only_open: bool = False) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "terminal_stages": _terminal_stages(completion),
        "exception_stages": list(domain.EXCEPTIONS),
        "only_open": only_open,
    }


def _terminal_stages(completion: Completion) -> list[str]:
    terminal = list(domain.TERMINAL) if completion == "terminal" else []
    return terminal or ["\x00"]


def level_params(as_of: datetime, completion: Completion) -> dict[str, Any]:
    """Parameters of features_load_levels (the load levels at one instant)."""
    return {"as_of": as_of, "wip_horizon_h": WIP_HORIZON_H, "terminal_stages": _terminal_stages(completion)}


def _stall_params() -> dict[str, Any]:
    stages = sorted(domain.STALL_LIMIT_HOURS)
    return {"stall_stages": stages, "stall_hours": [float(domain.STALL_LIMIT_HOURS[s]) for s in stages]}


def _last_event_at(engine: Engine) -> datetime:
    last = engine.scalar("select max(event_ts) from events")
    if last is None:
        raise ConfigError("the store holds no events; import a log or build the demo first")
    return pd.Timestamp(last).to_pydatetime()


def _instant(as_of: datetime | date | None) -> datetime | None:
    """A day means its end: everything that happened on it is visible."""
    if as_of is None or isinstance(as_of, datetime):
        return as_of
    return domain.last_instant(as_of)


def build_open_order_features(store_path: StorePath, as_of: datetime | date) -> pd.DataFrame:
    """Features of every order open at ``as_of`` (a day means its end), for daily scoring."""
    return build_prefix_features(store_path, mode="single", as_of=as_of, with_targets=False)


def build_prefix_features(
    store_path: StorePath = None,
    *,
    mode: PrefixMode = "events",
    as_of: datetime | date | None = None,
    start: datetime | None = None,
    every_h: float = 6.0,
    min_prefix_len: int = 1,
    max_prefixes: int | None = None,
    with_targets: bool = True,
    completion: Completion | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Prefix rows (grain: order × as-of instant) with point-in-time features and, optionally, targets.

    Only events with event_ts <= as_of (default: the last event) are visible at all. For ``snapshots``
    the grid runs from ``start`` (default: the first event's day) to ``as_of`` every ``every_h`` hours;
    for ``single`` every open order is a prefix at ``as_of``. ``max_prefixes`` keeps a deterministic
    sample (a hash of order and instant: each engine has its own hash, so the sample differs by engine).
    ``engine`` runs the same SQL elsewhere (core.engine: Spark over a lake); default DuckDB on the store.
    """
    if mode not in ("events", "snapshots", "single"):
        raise ConfigError(f"unknown prefix mode {mode!r}; use events, snapshots or single")
    if engine is None:
        with open_store(store_path) as duck:
            return build_prefix_features(
                mode=mode,
                as_of=as_of,
                start=start,
                every_h=every_h,
                min_prefix_len=min_prefix_len,
                max_prefixes=max_prefixes,
                with_targets=with_targets,
                completion=completion,
                engine=duck,
            )
    completion = completion or detect_completion(engine=engine)
    as_of = _instant(as_of) or _last_event_at(engine)
    # One instant without targets: only the open orders' events are kept per event (the history
    # of ended orders only feeds the load levels, which read the events table in one pass).
    single = mode == "single" and not with_targets
    if single:  # first, so its working memory is free again before the per-event table is built
        engine.execute(store.load_sql("features_load_levels"), level_params(as_of, completion))
    params = _params(as_of, completion, only_open=single)
    engine.execute(store.load_sql("features_events"), params)
    _select_prefixes(engine, mode, as_of, start, every_h, min_prefix_len)
    total = int(engine.scalar("select count(*) from feat_prefixes") or 0)
    if max_prefixes is not None and total > max_prefixes:
        keep = int(1_000_000 * max_prefixes / total)
        engine.execute(store.load_sql("features_prefixes_sample"), {"keep_per_million": keep})
    # One shared instant needs only the load levels at it (above), not the running series of the history.
    if not single:
        engine.execute(store.load_sql("features_load_series"), {"as_of": as_of, "wip_horizon_h": WIP_HORIZON_H})
    fetched, targets = _fetch_tables(engine, as_of, completion, with_targets)
    # Each table is converted with its Arrow buffers released as they go (self_destruct), so Arrow and
    # pandas copies of a 1M-row result are never held whole at once.
    fetched.reverse()
    base, activity_long, event_attr_long, case_attr_long, variants = (
        fetched.pop().to_pandas(self_destruct=True, split_blocks=True) for _ in range(len(fetched))
    )
    frame = _assemble(base, activity_long, event_attr_long, case_attr_long, variants, targets)
    frame.attrs["prefixes_total"] = total
    frame.attrs["sample_fraction"] = 1.0 if not total else min(1.0, len(frame) / total)
    frame.attrs["completion"] = completion
    return frame


def _select_prefixes(
    engine: Engine,
    mode: PrefixMode,
    as_of: datetime,
    start: datetime | None,
    every_h: float,
    min_prefix_len: int,
) -> None:
    """Fill `feat_prefixes` with the (order, instant) prefixes of the mode."""
    if mode == "events":
        engine.execute(store.load_sql("features_prefixes_events"), {"min_prefix_len": min_prefix_len})
    elif mode == "snapshots":
        first = start or pd.Timestamp(engine.scalar("select min(event_ts) from feat_events"))
        grid_start = pd.Timestamp(first).floor("D") + pd.Timedelta(hours=every_h)
        engine.execute(
            store.load_sql("features_prefixes_snapshots"),
            {"start_at": grid_start.to_pydatetime(), "end_at": as_of, "every_min": int(round(every_h * 60))},
        )
    else:
        engine.execute(store.load_sql("features_prefixes_single"), {"at": as_of})


def _fetch_tables(
    engine: Engine, as_of: datetime, completion: Completion, with_targets: bool
) -> tuple[list[Any], pd.DataFrame | None]:
    """The feature tables of the prefixes as Arrow (base first), and the targets when asked for."""
    # Fetched as Arrow (compact) and turned into pandas once the connection has let its memory go;
    # Arrow's conversion also shares one Python string per distinct value (stages, carriers, ...),
    # which took a 1M-row frame from ≈850 to ≈520 MB.
    # The widest result last, so the other queries run without it held.
    fetched = [
        engine.arrow(store.load_sql(name))
        for name in ("features_activity_counts", "features_event_attrs", "features_case_attrs", "features_variants")
    ]
    fetched.insert(0, engine.arrow(store.load_sql("features_base"), _stall_params()))
    targets = (
        engine.frame(
            store.load_sql("features_targets"),
            {
                "as_of": as_of,
                "completion": completion,
                "cancelled_stage": domain.CANCELLED,
                **_stall_params(),
            },
        )
        if with_targets
        else None
    )
    return fetched, targets


def _pivot(long: pd.DataFrame, key: list[str], column: str, value: str, prefix: str) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame(columns=key).set_index(key)
    wide = long.set_index([*key, column])[value].unstack(column)
    wide.columns = [f"{prefix}{c}" for c in wide.columns]
    return wide


def _typed_attributes(wide: pd.DataFrame) -> pd.DataFrame:
    """Numbers become floats, dates are dropped (end dates leak the future), the rest are categories."""
    typed = {}
    for name in wide.columns:
        values = wide[name]
        present = values.dropna()
        if present.empty:
            continue
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().mean() >= NUMERIC_SHARE:
            typed[name] = pd.to_numeric(values, errors="coerce").astype("float64")
            continue
        sample = present.iloc[:200]
        dates = pd.to_datetime(sample, errors="coerce", utc=True, format="mixed")
        if dates.notna().mean() >= NUMERIC_SHARE:
            continue
        typed[name] = values.astype("object")
    return pd.DataFrame(typed, index=wide.index)


def _assemble(
    base: pd.DataFrame,
    activity_long: pd.DataFrame,
    event_attr_long: pd.DataFrame,
    case_attr_long: pd.DataFrame,
    variants: pd.DataFrame,
    targets: pd.DataFrame | None,
) -> pd.DataFrame:
    key = ["order_id", "prefix_len"]
    counts = _pivot(activity_long, key, "stage", "events", ACTIVITY_PREFIX)
    if counts.shape[1] > MAX_ACTIVITY_COLUMNS:
        top = activity_long.groupby("stage")["events"].sum().nlargest(MAX_ACTIVITY_COLUMNS).index
        counts = counts[[f"{ACTIVITY_PREFIX}{s}" for s in top]]
    counts = counts.fillna(0).astype("int32")
    event_attrs = _typed_attributes(_pivot(event_attr_long, key, "attr_key", "attr_value", EVENT_ATTR_PREFIX))
    case_attrs = _typed_attributes(_pivot(case_attr_long, ["order_id"], "attr_key", "attr_value", CASE_ATTR_PREFIX))
    # The wide base gets its new columns looked up by key and added in one concat (no copy of the
    # base per join: at a million open orders each copy was ≈0.5 GB of peak memory).
    prefix_index = pd.MultiIndex.from_frame(base[key])
    added = {name: counts[name].reindex(prefix_index).fillna(0).astype("int32").to_numpy() for name in counts}
    added.update({name: event_attrs[name].reindex(prefix_index).to_numpy() for name in event_attrs})
    added.update({name: case_attrs[name].reindex(base["order_id"]).to_numpy() for name in case_attrs})
    per_order = variants.set_index("order_id")  # one row per order (features_variants groups by it)
    added.update({name: per_order[name].reindex(base["order_id"]).to_numpy() for name in per_order})
    frame = pd.concat([base, pd.DataFrame(added, index=base.index)], axis=1, copy=False)
    if targets is not None:
        frame = frame.merge(targets, on=list(KEY_COLUMNS), how="left")
    for name in BASE_CATEGORICAL:
        frame[name] = frame[name].astype("object")
    return frame


def split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(categorical, numeric) model inputs of a feature frame: everything but keys, info and targets."""
    skip = set(INFO_COLUMNS) | set(TARGET_COLUMNS)
    categorical, numeric = [], []
    for name in frame.columns:
        if name in skip or frame[name].isna().all():
            continue
        if name in BASE_CATEGORICAL or frame[name].dtype == object:
            categorical.append(name)
        else:
            numeric.append(name)
    return categorical, numeric


def find_leaking_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """Attribute columns computed from the whole case, with the reason: a general rule, never per log.

    - id-like: a categorical attribute with more distinct values than half the cases;
    - variant-like: constant within each case and determined by the case's full activity sequence
      (equal in 99% of cases that share a variant) while the log has far fewer variants than cases.
    ``frame`` should hold training rows only (complete cases).
    """
    leaking: dict[str, str] = {}
    attributes = [c for c in columns if c.startswith((EVENT_ATTR_PREFIX, CASE_ATTR_PREFIX))]
    if not attributes:
        return leaking
    per_case = frame.drop_duplicates("order_id", keep="last").set_index("order_id")
    n_cases = len(per_case)
    variant_sizes = per_case["variant"].map(per_case["variant"].value_counts())
    shared = per_case[variant_sizes >= 2]
    many_cases_per_variant = per_case["variant"].nunique() < 0.5 * n_cases
    for name in attributes:
        values = per_case[name]
        if values.dtype == object and values.nunique() > 0.5 * n_cases:
            leaking[name] = "id-like: more distinct values than half the cases"
            continue
        if not many_cases_per_variant or shared.empty or values.nunique() < 2:
            continue
        constant_in_case = frame.groupby("order_id")[name].nunique(dropna=False).le(1).mean() >= 0.99
        if not constant_in_case:
            continue
        per_variant = shared.groupby("variant")[name].transform("nunique").le(1)
        if per_variant.mean() >= 0.99:
            leaking[name] = "variant-like: determined by the whole case's activity sequence"
    return leaking


def feature_frame_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts that describe a feature frame (rows, orders, columns, share of rows with each target)."""
    categorical, numeric = split_columns(frame)
    return {
        "rows": int(len(frame)),
        "orders": int(frame["order_id"].nunique()),
        "categorical": len(categorical),
        "numeric": len(numeric),
        "with_remaining": int(frame["remaining_h"].notna().sum()) if "remaining_h" in frame else 0,
        "stuck_share": float(np.nanmean(frame["stuck_label"])) if "stuck_label" in frame and len(frame) else None,
    }
