"""Drift of model features and predictions against the champion's reference sample.

Each column's score is Evidently's method computed by `drift_scores` (normed Wasserstein for
numbers, Jensen-Shannon for categories; equal to Evidently's own scores, pinned by a parity test)
on at most `max_rows` sampled rows a side, and its verdict is `score >= threshold`, as Evidently's
test. Around it we add what Evidently misses or gets wrong: validation first (it raises on an empty
batch, an all-NaN column, a missing column or a number arriving as text, and calls every column of
a 3-row batch drifted), our own missing-rate and new-category checks (it drops NaNs and has no
notion of an unseen value), and a per-column threshold that never sits below the sampling-noise
floor of the batch size, so a day of a few thousand rows does not "drift" by chance.

Evidently's report is a separate step (`attach_report`): its real `DataDriftPreset` run on the very
rows, methods and thresholds the verdicts used, so the report shows the stored scores; the verdicts
never wait for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.monitor.drift_checks import checked_values
from core.monitor.drift_scores import score_column
from core.monitor.drift_settings import MonitorSettings

STATUSES: tuple[str, ...] = ("ok", "drifted", "too_small", "invalid")
RESULT_COLUMNS: tuple[str, ...] = (
    "column",
    "role",
    "kind",
    "method",
    "score",
    "threshold",
    "drifted",
    "missing_rate_ref",
    "missing_rate_cur",
    "missing_rate_jumped",
    "new_categories",
    "new_category_share",
    "status",
    "note",
    "rows_ref",
    "rows_cur",
)


@dataclass(frozen=True)
class ComparedRows:
    """The sampled, clean rows a side the scores were computed on, and each column's kind: what
    Evidently's report is run on, so it shows the same scores."""

    reference: pd.DataFrame
    current: pd.DataFrame
    kinds: dict[str, str]


@dataclass(frozen=True)
class DriftResult:
    """Per-column drift table, Evidently's snapshot JSON, and what was compared."""

    columns: pd.DataFrame  # one row per column, RESULT_COLUMNS
    snapshot_json: str | None  # snap.dumps() once `attach_report` ran; None before, or when no column was compared
    rows_ref: int
    rows_cur: int
    sampled_ref: int
    sampled_cur: int
    methods: dict[str, str]  # column -> Evidently method, for columns that were compared
    thresholds: dict[str, float]  # column -> threshold used, so a benchmark can rerun Evidently alike
    compared: ComparedRows | None = field(default=None, repr=False, compare=False)

    @property
    def drift_share(self) -> float:
        """Share of judged feature columns whose status is drifted (0 when none could be judged)."""
        features = self.columns[self.columns["role"] == "feature"]
        judged = features[features["status"].isin(["ok", "drifted"])]
        return float((judged["status"] == "drifted").mean()) if len(judged) else 0.0


def column_kinds(
    reference: pd.DataFrame, columns: Sequence[str], categorical: Sequence[str] | None = None
) -> dict[str, str]:
    """`numeric` or `categorical` per column, from the reference dtypes unless named categorical."""
    forced = set(categorical or ())
    kinds: dict[str, str] = {}
    for column in columns:
        series = reference[column] if column in reference.columns else pd.Series(dtype=object)
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        kinds[column] = "numeric" if numeric and column not in forced else "categorical"
    return kinds


def sample_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most `max_rows` rows, drawn without replacement with a fixed seed (all rows if fewer)."""
    if len(frame) <= max_rows:
        return frame
    return frame.iloc[sample_positions(len(frame), max_rows, seed)]


def sample_positions(n_rows: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Row positions `sample_rows` keeps (pandas' `sample` draw), None when it keeps every row."""
    if n_rows <= max_rows:
        return None
    return np.random.RandomState(seed).choice(n_rows, size=max_rows, replace=False)


def _sampled_frame(values: Mapping[str, pd.Series], max_rows: int, seed: int) -> pd.DataFrame:
    # Sample each column before building the frame: a frame of a million rows and mixed types costs
    # seconds to assemble.
    n_rows = len(next(iter(values.values()))) if values else 0
    positions = sample_positions(n_rows, max_rows, seed)
    if positions is None:
        return pd.DataFrame(dict(values))
    return pd.DataFrame({c: v.iloc[positions] for c, v in values.items()})


def noise_threshold(kind: str, n_ref: int, n_cur: int, n_values: int, settings: MonitorSettings) -> float:
    """The score pure sampling noise stays below at these sizes (see MonitorSettings)."""
    from scipy import special

    n_eff = 1.0 / (1.0 / max(n_ref, 1) + 1.0 / max(n_cur, 1))
    if kind == "numeric":
        return settings.num_noise_c / math.sqrt(n_eff)
    dof = max(n_values - 1, 1)
    # chi2's (1 - alpha) quantile as its inverse survival function (scipy.stats costs 0.6 s to import)
    return math.sqrt(float(special.chdtri(dof, settings.cat_noise_alpha)) / (8.0 * n_eff))


def column_thresholds(
    reference: pd.DataFrame, current: pd.DataFrame, kinds: Mapping[str, str], settings: MonitorSettings
) -> tuple[dict[str, str], dict[str, float]]:
    """Method and threshold per column of the (clean, sampled) frames: the configured threshold,
    raised to the sampling-noise floor of the sizes compared."""
    methods: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    for column in reference.columns:
        kind = kinds[column]
        ref, cur = reference[column].dropna(), current[column].dropna()
        base = settings.num_threshold if kind == "numeric" else settings.cat_threshold
        base = float(settings.per_column_threshold.get(column, base))
        n_values = int(pd.concat([ref, cur]).nunique()) if kind == "categorical" else 0
        methods[column] = settings.num_method if kind == "numeric" else settings.cat_method
        thresholds[column] = max(base, noise_threshold(kind, len(ref), len(cur), n_values, settings))
    return methods, thresholds


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    predictions: Sequence[str] = (),
    *,
    categorical: Sequence[str] | None = None,
    settings: MonitorSettings | None = None,
    calibrated: Mapping[str, float] | None = None,
) -> DriftResult:
    """Drift of each feature and prediction column of `current` against `reference`.

    `calibrated`: per-column thresholds from `calibrate_thresholds` on the same reference (computed
    once per champion); a column's threshold is the largest of configured, noise floor and calibrated.
    No Evidently report is built here (`snapshot_json` is None): `attach_report` adds it.
    """
    settings = settings or MonitorSettings()
    roles = {c: "feature" for c in features} | {c: "prediction" for c in predictions}
    if not roles:
        raise ConfigError("compute_drift needs at least one feature or prediction column to compare")
    kinds = column_kinds(reference, list(roles), categorical)
    checks, clean_ref, clean_cur = checked_values(reference, current, kinds, settings)
    sampled_ref = _sampled_frame(clean_ref, settings.max_rows, settings.seed)
    sampled_cur = _sampled_frame(clean_cur, settings.max_rows, settings.seed)

    methods, thresholds = column_thresholds(sampled_ref, sampled_cur, kinds, settings)
    for column, floor in (calibrated or {}).items():
        if column in thresholds:
            thresholds[column] = max(thresholds[column], float(floor))
    verdicts = score_columns(sampled_ref, sampled_cur, kinds, methods, thresholds)

    table = checks.merge(verdicts, on="column", how="left")
    table["role"] = table["column"].map(roles)
    table["drifted"] = table["drifted"].astype("boolean")
    flagged = (
        table["drifted"].fillna(False).astype(bool)
        | table["missing_rate_jumped"].astype(bool)
        | (table["new_categories"].map(len) > 0)
    )
    table["status"] = table["status"].where(table["status"].notna(), np.where(flagged, "drifted", "ok"))
    table["score"] = table["score"].astype(float)
    table["threshold"] = table["threshold"].astype(float)
    return DriftResult(
        columns=table[list(RESULT_COLUMNS)].reset_index(drop=True),
        snapshot_json=None,
        rows_ref=len(reference),
        rows_cur=len(current),
        sampled_ref=len(sampled_ref),
        sampled_cur=len(sampled_cur),
        methods=methods,
        thresholds=thresholds,
        compared=ComparedRows(sampled_ref, sampled_cur, {c: kinds[c] for c in sampled_ref.columns}),
    )


def score_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    methods: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> pd.DataFrame:
    """Per column of the (clean, sampled) frames: method, score, threshold and drifted, as Evidently's
    `ValueDrift` and its test (drifted when score >= threshold)."""
    rows = []
    for column in reference.columns:
        score = score_column(reference[column], current[column], kinds[column], methods[column])
        threshold = float(thresholds[column])
        rows.append(
            {
                "column": column,
                "method": methods[column],
                "score": score,
                "threshold": threshold,
                "drifted": score >= threshold,
            }
        )
    return pd.DataFrame(rows, columns=["column", "method", "score", "threshold", "drifted"])


class DriftReportError(RuntimeError):
    """Evidently's report scored a column differently from the verdict (an upgrade changed a method)."""


def attach_report(result: DriftResult, *, rel_tol: float = 1e-9, abs_tol: float = 1e-12) -> DriftResult:
    """The result with Evidently's report (its snapshot JSON) of the rows the scores were computed on.

    The report runs Evidently's `DataDriftPreset` with the same methods and thresholds, so each of its
    column scores equals the stored one; a score further apart than `rel_tol` (and `abs_tol`, summation
    order alone moves a near-zero score by ~1e-17) raises `DriftReportError` rather than show one number
    and judge by another.
    """
    from core.monitor.drift_evidently import parse_snapshot, run_evidently

    compared = result.compared
    if compared is None or compared.reference.columns.empty:
        return result
    snapshot = run_evidently(compared.reference, compared.current, compared.kinds, result.methods, result.thresholds)
    reported = parse_snapshot(snapshot.dict()).set_index("column")
    ours = result.columns.set_index("column").loc[reported.index]
    apart = pd.Series(~np.isclose(reported["score"], ours["score"], rtol=rel_tol, atol=abs_tol), index=reported.index)
    if apart.any():
        raise DriftReportError(
            "Evidently's report disagrees with the monitor's drift scores for "
            f"{sorted(apart[apart].index)}: reported {reported.loc[apart, 'score'].to_dict()}, computed "
            f"{ours.loc[apart, 'score'].to_dict()}; check core.monitor.drift_scores against the installed Evidently"
        )
    return replace(result, snapshot_json=snapshot.dumps())
