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
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.monitor.drift_scores import score_column

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
class MonitorSettings:
    """Thresholds of the per-column drift verdicts; the defaults are robust to daily sampling noise."""

    max_rows: int = 100_000  # per side scored (and handed to Evidently's report)
    seed: int = 7
    min_rows: int = 100  # non-null values a side below which a column is too small to judge
    num_method: str = "wasserstein"  # normed by the reference std; a distance, so it does not fire on noise at large n
    cat_method: str = "jensenshannon"
    num_threshold: float = 0.1
    cat_threshold: float = 0.1
    # Noise floors: a threshold is never below what pure sampling noise reaches at this batch size.
    # Normed Wasserstein of two samples of one distribution falls like c/sqrt(n); c = 5 sat above
    # the largest of 200 draws at 300–3,000 rows against 100k for normal, exponential, small-integer,
    # Poisson and 2%-binary columns, and for log-normal/Pareto ones on the log scale (below).
    # For Jensen-Shannon, 8·n·JSD is ≈ chi-square with k-1 degrees of freedom, so we take its
    # (1 - alpha) quantile; alpha is small because sparse categories make the tail heavier.
    num_noise_c: float = 5.0
    cat_noise_alpha: float = 1e-6
    # A non-negative column skewed beyond this (durations, money, counts with a long tail) is
    # compared as sign(x)·log1p(|x|): on the raw scale a few extreme values dominate both the
    # distance and the std it is normed by (Pareto 1.5 reached 11x the threshold on pure noise);
    # on the log scale every shape we tried stayed under 0.9x, and a shift reads as relative.
    log_scale_skew: float = 2.0
    per_column_threshold: Mapping[str, float] = field(default_factory=dict)
    # Missing rate: a rise counts when it is both material and far outside binomial noise.
    missing_jump_min: float = 0.05
    noise_z: float = 4.0
    # New categories: values never seen in the reference, counted when they hold a material share.
    new_category_min_share: float = 0.005
    new_category_min_rows: int = 5
    max_reference_categories: int = 1_000  # above this a column is id-like: every day brings new values
    # Day-to-day calibration (calibrate_thresholds): a daily batch is one instant, and load, calendar
    # and backlog features move with the instant, not with the rows; so a column's threshold is also
    # kept above `calibration_margin` x the largest score of one reference instant against the rest.
    calibration_margin: float = 1.5
    calibration_instants: int = 30
    calibration_rows: int = 20_000  # rows of "the rest" each instant is scored against
    max_new_categories_listed: int = 20

    def __post_init__(self) -> None:
        if self.max_rows < self.min_rows or self.min_rows < 1:
            raise ConfigError(
                f"monitor settings: need 1 <= min_rows <= max_rows, got min_rows={self.min_rows}, "
                f"max_rows={self.max_rows}; fix the MonitorSettings passed to the monitor"
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


def noise_threshold(kind: str, n_ref: int, n_cur: int, n_values: int, settings: MonitorSettings) -> float:
    """The score pure sampling noise stays below at these sizes (see MonitorSettings)."""
    from scipy import special

    n_eff = 1.0 / (1.0 / max(n_ref, 1) + 1.0 / max(n_cur, 1))
    if kind == "numeric":
        return settings.num_noise_c / math.sqrt(n_eff)
    dof = max(n_values - 1, 1)
    # chi2's (1 - alpha) quantile as its inverse survival function (scipy.stats costs 0.6 s to import)
    return math.sqrt(float(special.chdtri(dof, settings.cat_noise_alpha)) / (8.0 * n_eff))


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
    checks, clean_ref, clean_cur = _check_all(reference, current, kinds, settings)
    return checks, pd.DataFrame(clean_ref), pd.DataFrame(clean_cur)


def _check_all(
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
    checks, clean_ref, clean_cur = _check_all(reference, current, kinds, settings)
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
