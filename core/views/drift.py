"""The analyst's look at one drift cell: a column's values on one day beside the reference sample of
that day's champion, on the scale its score was computed on (the Drift page's distributions).

The reference is the champion's stored sample (`batch.reference_file`, never rebuilt here); the
current values are reproduced: a feature from the open orders' point-in-time features at the day's
end, a prediction from the day's stored champion predictions. Both are cleaned, sampled and put on
the scale exactly as the monitor did (`drift_checks.compared_scale`, `drift.sample_positions`), so the score
of the values shown is the stored score.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core import features, store
from core.config import StorePath
from core.domain import end_of_day
from core.errors import ConfigError
from core.monitor import drift, drift_checks, drift_store
from core.monitor.drift_scores import finite_values
from core.scoring import batch, checked_files

NUMERIC_BINS = 30
TOP_CATEGORIES = 15
OTHER_CATEGORIES = "(other values)"


@dataclass(frozen=True)
class ColumnDistributions:
    """One column on one day: the stored verdict and the shares of its values, reference vs current."""

    as_of: date
    column: str
    role: str  # feature or prediction
    kind: str  # numeric or categorical
    method: str | None
    score: float | None
    threshold: float | None
    drifted: bool | None
    status: str
    note: str | None
    log_scale: bool  # numbers compared as sign(x)·log1p(|x|)
    values_ref: int  # non-missing values compared a side
    values_cur: int
    # numeric: low, high (the compared scale), low_value, high_value (the column's own units),
    # reference_share, current_share per bin; categorical: category, reference_share, current_share
    shares: pd.DataFrame


def compared_values(
    reference: pd.Series, current: pd.Series, kind: str, settings: drift.MonitorSettings | None = None
) -> tuple[pd.Series, pd.Series, bool]:
    """The values a column's score is computed on: on the monitor's scale, sampled as the monitor
    samples each side, missing and ±inf dropped; and whether they are on the log scale."""
    settings = settings or drift.MonitorSettings()
    ref, cur, log_scale = drift_checks.compared_scale(reference, current, kind, settings)
    sides = []
    for side in (ref, cur):
        positions = drift.sample_positions(len(side), settings.max_rows, settings.seed)
        sides.append(finite_values(side if positions is None else side.iloc[positions]))
    return sides[0].reset_index(drop=True), sides[1].reset_index(drop=True), log_scale


def _original_units(edges: np.ndarray, log_scale: bool) -> np.ndarray:
    return np.sign(edges) * np.expm1(np.abs(edges)) if log_scale else edges


def numeric_shares(
    reference: pd.Series, current: pd.Series, log_scale: bool = False, bins: int = NUMERIC_BINS
) -> pd.DataFrame:
    """Grain: bin of equal width over both sides — its edges (and in the column's units) and each side's share."""
    both = np.concatenate([reference.to_numpy(dtype=float), current.to_numpy(dtype=float)])
    if both.size == 0:
        return pd.DataFrame(columns=["low", "high", "low_value", "high_value", "reference_share", "current_share"])
    edges = np.histogram_bin_edges(both, bins=bins)
    shares = {
        name: np.histogram(side.to_numpy(dtype=float), bins=edges)[0] / max(len(side), 1)
        for name, side in (("reference_share", reference), ("current_share", current))
    }
    values = _original_units(edges, log_scale)
    return pd.DataFrame(
        {"low": edges[:-1], "high": edges[1:], "low_value": values[:-1], "high_value": values[1:], **shares}
    )


def categorical_shares(reference: pd.Series, current: pd.Series, top: int = TOP_CATEGORIES) -> pd.DataFrame:
    """Grain: category — each side's share of its values, the `top` most common of both sides first
    and the rest together as one row."""
    table = pd.DataFrame(
        {
            "reference_share": reference.value_counts() / max(len(reference), 1),
            "current_share": current.value_counts() / max(len(current), 1),
        }
    ).fillna(0.0)
    table = table.assign(both=table.sum(axis=1)).sort_values("both", ascending=False, kind="stable")
    table = table.drop(columns="both")
    table.index = table.index.astype(str)
    if len(table) > top:
        rest = table.iloc[top:].sum().rename(OTHER_CATEGORIES)
        table = pd.concat([table.iloc[:top], rest.to_frame().T])
    return table.rename_axis("category").reset_index()


def drift_row(as_of: date, column: str, store_path: StorePath = None) -> pd.Series:
    """The stored drift result of one column on one day (a ConfigError when there is none)."""
    rows = drift_store.read_drift(as_of, store_path)
    found = rows.loc[(pd.to_datetime(rows["as_of"]).dt.date == as_of) & (rows["column"] == column)]
    if found.empty:
        raise ConfigError(f"no drift result for {column!r} on {as_of:%Y-%m-%d}; pick a day and column of the table")
    return found.iloc[0]


def load_reference_column(as_of: date, column: str, store_path: StorePath = None) -> pd.Series:
    """The column of the reference sample the day's champion was judged against (its stored file)."""
    versions = store.fetch_df("scoring_day_versions", {"as_of_date": as_of}, store_path)
    champion = versions.loc[versions["role"] == "champion"]
    if champion.empty:
        raise ConfigError(f"no champion scored {as_of:%Y-%m-%d}, so no reference sample was compared that day")
    models = batch.ServingModels(
        "champion", str(champion["forecaster_version"].iloc[0]), str(champion["classifier_version"].iloc[0]), None, None
    )
    path = batch.reference_file(models, store_path)
    if not path.is_file():
        raise ConfigError(f"the reference sample of {models.forecaster_version} is no longer kept ({path.name})")
    try:
        reference = pd.read_parquet(io.BytesIO(checked_files.read_checked(path)))
    except checked_files.CheckedFileError as exc:
        raise ConfigError(str(exc)) from exc
    if column not in reference.columns:
        raise ConfigError(f"the reference sample of {models.forecaster_version} has no column {column!r}")
    return reference[column].reset_index(drop=True)


def load_current_column(as_of: date, column: str, role: str, store_path: StorePath = None) -> pd.Series:
    """The day's values of a column as the daily run compared them: a prediction from the stored champion
    predictions, a feature from the open orders' features at the day's end (both in order id order)."""
    if role == "prediction":
        current = store.fetch_df("drift_day_predictions", {"as_of_date": as_of}, store_path)
    else:
        current = features.build_prefix_features(store_path, mode="single", as_of=end_of_day(as_of), with_targets=False)
        current = current.sort_values("order_id", kind="stable")
    if column not in current.columns:
        raise ConfigError(f"the {role} column {column!r} cannot be rebuilt for {as_of:%Y-%m-%d}")
    return current[column].reset_index(drop=True)


def _none(value: object) -> object:
    return None if value is None or pd.isna(value) else value  # type: ignore[arg-type]


def column_distributions(
    as_of: date, column: str, store_path: StorePath = None, settings: drift.MonitorSettings | None = None
) -> ColumnDistributions:
    """A column's reference and current values of one day as the drift score compared them, with its stored verdict."""
    row = drift_row(as_of, column, store_path)
    reference = load_reference_column(as_of, column, store_path)
    current = load_current_column(as_of, column, str(row["role"]), store_path)
    ref, cur, log_scale = compared_values(reference, current, str(row["kind"]), settings)
    shares = numeric_shares(ref, cur, log_scale) if row["kind"] == "numeric" else categorical_shares(ref, cur)
    score, threshold, drifted = (_none(row[c]) for c in ("score", "threshold", "drifted"))
    return ColumnDistributions(
        as_of=as_of,
        column=column,
        role=str(row["role"]),
        kind=str(row["kind"]),
        method=_none(row["method"]),  # type: ignore[arg-type]
        score=None if score is None else float(score),  # type: ignore[arg-type]
        threshold=None if threshold is None else float(threshold),  # type: ignore[arg-type]
        drifted=None if drifted is None else bool(drifted),
        status=str(row["status"]),
        note=_none(row["note"]),  # type: ignore[arg-type]
        log_scale=log_scale,
        values_ref=len(ref),
        values_cur=len(cur),
        shares=shares,
    )
