"""Training sets and the chronological split.

Journeys are sorted by their start; the oldest train, the next ones calibrate (validation), the newest
are the holdout (test). Training and validation journeys whose outcome falls after the test period
starts are purged, and journeys that started within the embargo before it are left out, so nothing
from the test period reaches a model and the purge does not bias the training set towards short
journeys.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from core import features
from core.config import StorePath
from core.engine import Engine
from core.errors import ConfigError

SPLIT_FRACTIONS: tuple[float, float, float] = (0.64, 0.16, 0.20)


DEFAULT_MAX_ROWS = 150_000


DEFAULT_EMBARGO_H = 7 * 24.0


def prepare_features(frame: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    """Model inputs in the dtypes the pipelines expect: categories as text (missing NaN), numbers float."""
    prepared = {}
    for name in categorical:
        values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        if values.dtype != object:
            values = values.astype("string").astype(object)
        prepared[name] = values.where(values.notna(), np.nan)
    for name in numeric:
        values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        prepared[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.DataFrame(prepared, index=frame.index)


def build_training_frame(
    store_path: StorePath = None,
    as_of: datetime | None = None,
    *,
    every_h: float = 6.0,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    mode: features.PrefixMode | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Prefix rows with features, targets and segments: snapshots of open orders every ``every_h``
    hours in the order world, one prefix per event in an imported log. ``engine`` computes (and
    samples) the prefixes elsewhere, e.g. Spark over a lake; default DuckDB on the store."""
    completion = features.detect_completion(store_path, engine=engine)
    mode = mode or ("snapshots" if completion == "terminal" else "events")
    frame = features.build_prefix_features(
        store_path,
        mode=mode,
        as_of=as_of,
        every_h=every_h,
        max_prefixes=max_rows,
        completion=completion,
        engine=engine,
    )
    frame["as_of_date"] = pd.to_datetime(frame["as_of_at"]).dt.floor("D")
    # Each snapshot instant is one triage list; in a per-event log a day is.
    frame["triage_group"] = frame["as_of_at"] if mode == "snapshots" else frame["as_of_date"]
    frame["sample_fraction"] = frame.attrs.get("sample_fraction", 1.0)
    return frame


def chronological_split(
    frame: pd.DataFrame,
    fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
    *,
    embargo_h: float = 0.0,
    purge: bool = True,
) -> pd.Series:
    """Per row: 'train', 'validation', 'test' by the rank of its journey's start, or 'purged' /
    'embargo' for earlier journeys that would let the test period leak in."""
    if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ConfigError(f"split fractions must be >= 0 and add up to 1, got {fractions}")
    journeys = (
        frame[["order_id", "order_started_at"]]
        .drop_duplicates("order_id")
        .sort_values(["order_started_at", "order_id"], kind="stable")
    )
    position = np.arange(len(journeys)) / max(1, len(journeys))
    cut_train, cut_val = fractions[0], fractions[0] + fractions[1]
    part = np.where(position < cut_train, "train", np.where(position < cut_val, "validation", "test"))
    starts = journeys["order_started_at"].to_numpy()
    test_starts = starts[part == "test"]
    if embargo_h > 0 and len(test_starts):
        # The embargo sits between validation and test instead of eating the validation window: on a
        # short history a week's embargo would swallow all of it, and what the purge then left would
        # be the journeys that happened to end quickly, a biased calibration set. Validation keeps its
        # share of journeys, the newest ones starting before the embargo.
        gap = test_starts.min() - pd.Timedelta(hours=embargo_h)
        before = part != "test"
        embargoed = before & (starts > gap)
        earlier = np.flatnonzero(before & ~embargoed)
        part = np.where(embargoed, "embargo", part)
        part[earlier] = "train"
        n_validation = int(round(fractions[1] * len(journeys)))
        if n_validation:
            part[earlier[-n_validation:]] = "validation"
    split = pd.Series(part, index=journeys["order_id"].to_numpy())
    rows = frame["order_id"].map(split)
    if not len(test_starts):
        return rows
    test_start = test_starts.min()
    if purge and "order_ended_at" in frame:
        ends_later = frame["order_ended_at"].isna() | (frame["order_ended_at"] > test_start)
        rows = rows.where(~((rows.isin(["train", "validation"])) & ends_later), "purged")
    return rows


def select_columns(frame: pd.DataFrame, train_rows: pd.Series) -> tuple[list[str], list[str], dict[str, str]]:
    """(categorical, numeric, dropped-with-reason): inputs of the models, leaking attributes removed."""
    categorical, numeric = features.split_columns(frame)
    skip = {"as_of_date", "triage_group", "sample_fraction"}
    categorical = [c for c in categorical if c not in skip]
    numeric = [c for c in numeric if c not in skip]
    dropped = features.find_leaking_columns(frame[train_rows], categorical + numeric)
    return (
        [c for c in categorical if c not in dropped],
        [c for c in numeric if c not in dropped],
        dropped,
    )
