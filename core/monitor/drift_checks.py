"""The monitor's own checks of each column before it is scored: clean types (categories as text,
numbers as float, a log scale for heavy right tails), too few values, a missing-rate jump beyond noise,
categories the reference never holds. `core.monitor.drift` scores what these let through."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from core.monitor.drift_settings import MonitorSettings


def _as_categorical(series: pd.Series) -> pd.Series:
    # One spelling per value, so 1 and "1" or True and "True" are the same category on both sides.
    return series.astype(object).where(series.isna(), series.astype(str))


def _as_numeric(series: pd.Series) -> tuple[pd.Series, int, str | None]:
    """The series as float, the count of non-null values that are not numbers, and one of them."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float), 0, None
    parsed = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & parsed.isna()
    example = str(series[bad].iloc[0]) if bad.any() else None
    return parsed.astype(float), int(bad.sum()), example


def _heavy_tailed(reference: pd.Series, settings: MonitorSettings) -> bool:
    values = reference.dropna()
    if len(values) < 3 or values.min() < 0:
        return False
    skew = values.skew()
    return bool(pd.notna(skew) and skew > settings.log_scale_skew)


def _signed_log(series: pd.Series) -> pd.Series:
    # Monotone on all reals, so a negative value arriving later is still placed, not lost.
    return np.sign(series) * np.log1p(series.abs())


def _new_categories(ref: pd.Series, cur: pd.Series, settings: MonitorSettings) -> tuple[list[str], float, str | None]:
    """Values of the batch the reference never holds (most frequent first), their share, a note."""
    ref_values = pd.unique(ref.dropna())
    if len(ref_values) > settings.max_reference_categories:
        return [], 0.0, f"{len(ref_values)} distinct reference values: id-like, new values not checked"
    counts = cur.dropna().value_counts()
    unseen = counts[~counts.index.isin(ref_values)]
    total = int(counts.sum())
    share = float(unseen.sum() / total) if total else 0.0
    if unseen.sum() < settings.new_category_min_rows or share < settings.new_category_min_share:
        return [], share, None
    return [str(v) for v in unseen.index[: settings.max_new_categories_listed]], share, None


def check_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    settings: MonitorSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Own checks before scoring: per-column rows (status set where it cannot be judged) and the
    two frames with the judgeable columns in clean types (categories as text, numbers as float)."""
    checks, clean_ref, clean_cur = checked_values(reference, current, kinds, settings)
    return checks, pd.DataFrame(clean_ref), pd.DataFrame(clean_cur)


def checked_values(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    settings: MonitorSettings,
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, pd.Series]]:
    """`check_columns` with the clean columns as series, not yet assembled into frames."""
    rows: list[dict[str, Any]] = []
    clean_ref: dict[str, pd.Series] = {}
    clean_cur: dict[str, pd.Series] = {}
    for column, kind in kinds.items():
        row: dict[str, Any] = {
            "column": column,
            "kind": kind,
            "status": None,
            "note": None,
            "missing_rate_ref": None,
            "missing_rate_cur": None,
            "missing_rate_jumped": False,
            "new_categories": [],
            "new_category_share": 0.0,
            "rows_ref": len(reference),
            "rows_cur": len(current),
        }
        rows.append(row)
        values = _check_column(row, reference, current, settings)
        if values is not None:
            clean_ref[column], clean_cur[column] = values
    return pd.DataFrame(rows), clean_ref, clean_cur


def _check_column(
    row: dict[str, Any], reference: pd.DataFrame, current: pd.DataFrame, settings: MonitorSettings
) -> tuple[pd.Series, pd.Series] | None:
    """Fill one column's check row; its clean (reference, current) values when it can be judged."""
    column = row["column"]
    missing = [
        side for side, frame in (("reference", reference), ("current batch", current)) if column not in frame.columns
    ]
    if missing:
        row.update(status="invalid", note=f"column missing from the {' and '.join(missing)}")
        return None
    values = _clean_values(row, reference[column], current[column], settings)
    if values is None or not _has_enough_values(row, *values, settings):
        return None
    _flag_missing_and_new(row, *values, settings)
    return values


def _clean_values(
    row: dict[str, Any], ref: pd.Series, cur: pd.Series, settings: MonitorSettings
) -> tuple[pd.Series, pd.Series] | None:
    """Categories as text; numbers as float, on a log scale when heavy-tailed. None (the row marked
    invalid) when a numeric column arrived with values that are not numbers."""
    if row["kind"] != "numeric":
        return _as_categorical(ref), _as_categorical(cur)
    arrived = cur
    ref, _, _ = _as_numeric(ref)
    cur, bad, example = _as_numeric(cur)
    if bad:
        row.update(
            status="invalid",
            note=f"numeric column arrived as text: {bad} values are not numbers (e.g. {example!r})",
        )
        return None
    notes = []
    if not pd.api.types.is_numeric_dtype(arrived):
        notes.append("numeric column arrived as text; every value parsed as a number")
    ref, cur, log_scale = compared_scale(ref, cur, "numeric", settings)
    if log_scale:
        notes.append("heavy right tail: compared on a log scale")
    row["note"] = "; ".join(notes) or None
    return ref, cur


def compared_scale(
    reference: pd.Series, current: pd.Series, kind: str, settings: MonitorSettings
) -> tuple[pd.Series, pd.Series, bool]:
    """A column's two sides as its score compares them — categories as text, numbers as float, on the
    sign·log1p scale when the reference is heavy-tailed — and whether they are on that log scale."""
    if kind != "numeric":
        return _as_categorical(reference), _as_categorical(current), False
    ref, cur = _as_numeric(reference)[0], _as_numeric(current)[0]
    if _heavy_tailed(ref, settings):
        return _signed_log(ref), _signed_log(cur), True
    return ref, cur, False


def _has_enough_values(row: dict[str, Any], ref: pd.Series, cur: pd.Series, settings: MonitorSettings) -> bool:
    """Record the missing rates; False (the row marked invalid or too small) when a side has too few values."""
    row["missing_rate_ref"] = float(ref.isna().mean()) if len(ref) else None
    row["missing_rate_cur"] = float(cur.isna().mean()) if len(cur) else None
    n_ref, n_cur = int(ref.notna().sum()), int(cur.notna().sum())
    if len(cur) and n_cur == 0:
        row.update(status="invalid", note="no values in the current batch (all missing)")
        return False
    if len(ref) and n_ref == 0:
        row.update(status="invalid", note="no values in the reference sample (all missing)")
        return False
    if min(n_ref, n_cur) < settings.min_rows:
        side = "current batch" if n_cur < n_ref else "reference"
        row.update(
            status="too_small",
            note=f"{min(n_ref, n_cur)} non-missing values in the {side}, fewer than {settings.min_rows}",
        )
        return False
    return True


def _flag_missing_and_new(row: dict[str, Any], ref: pd.Series, cur: pd.Series, settings: MonitorSettings) -> None:
    """Our own checks Evidently lacks: a missing-rate jump beyond noise, and categories never seen."""
    p_ref, p_cur = row["missing_rate_ref"], row["missing_rate_cur"]
    pooled = (p_ref * len(ref) + p_cur * len(cur)) / (len(ref) + len(cur))
    noise_sd = math.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
    jump = p_cur - p_ref
    row["missing_rate_jumped"] = bool(jump >= settings.missing_jump_min and jump >= settings.noise_z * noise_sd)
    if row["kind"] == "categorical":
        listed, share, note = _new_categories(ref, cur, settings)
        row.update(new_categories=listed, new_category_share=share)
        if note:
            row["note"] = note
