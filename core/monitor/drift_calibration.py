"""Drift thresholds from the reference's own day-to-day variation (computed once per champion), and the unsampled full
Evidently run a benchmark compares the sampled verdicts with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.monitor.drift import DriftResult, MonitorSettings, column_kinds, sample_rows
from core.monitor.drift_checks import check_columns
from core.monitor.drift_evidently import parse_snapshot, run_evidently
from core.monitor.drift_scores import score_column


def calibrate_thresholds(
    reference: pd.DataFrame,
    features: Sequence[str],
    predictions: Sequence[str] = (),
    *,
    instant_column: str = "as_of_at",
    categorical: Sequence[str] | None = None,
    settings: MonitorSettings | None = None,
) -> dict[str, float]:
    """Per-column thresholds from the reference's own day-to-day variation.

    Each of up to `calibration_instants` reference instants is scored against the rest of the
    reference, as a daily batch would be; a column's threshold is `calibration_margin` x its largest
    score. Columns driven by the instant (load, calendar, backlog) get thresholds that normal days stay
    under; row-level columns keep the configured threshold. Pass the result to `compute_drift`.
    """
    settings = settings or MonitorSettings()
    if instant_column not in reference.columns:
        raise ConfigError(
            f"calibrate_thresholds: the reference has no {instant_column!r} column; pass the column "
            "that holds each row's as-of instant as instant_column"
        )
    columns = [c for c in [*features, *predictions] if c != instant_column]
    kinds = column_kinds(reference, columns, categorical)
    _, clean, _ = check_columns(reference, reference, kinds, settings)
    instants = reference[instant_column].to_numpy()
    counts = pd.Series(instants).value_counts()
    usable = np.sort(counts[counts >= settings.min_rows].index.to_numpy())
    if len(usable) > settings.calibration_instants:
        usable = usable[np.linspace(0, len(usable) - 1, settings.calibration_instants).round().astype(int)]
    methods = {c: settings.num_method if kinds[c] == "numeric" else settings.cat_method for c in clean.columns}
    worst = dict.fromkeys(clean.columns, 0.0)
    for instant in usable:
        at_instant = instants == instant
        batch = clean[at_instant]
        rest = sample_rows(clean[~at_instant], settings.calibration_rows, settings.seed)
        for column in clean.columns:
            ref, cur = rest[column].dropna(), batch[column].dropna()
            if min(len(ref), len(cur)) < settings.min_rows:
                continue
            worst[column] = max(worst[column], score_column(ref, cur, kinds[column], methods[column]))
    return {column: settings.calibration_margin * score for column, score in worst.items()}


def full_run_verdicts(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    result: DriftResult,
    *,
    categorical: Sequence[str] | None = None,
    settings: MonitorSettings | None = None,
) -> pd.DataFrame:
    """Evidently on the full, unsampled frames with the methods and thresholds `result` used: the
    baseline a benchmark compares the sampled run's verdicts and time with."""
    settings = settings or MonitorSettings()
    columns = list(result.methods)
    kinds = column_kinds(reference, columns, categorical)
    _, clean_ref, clean_cur = check_columns(reference, current, kinds, settings)
    snapshot = run_evidently(clean_ref, clean_cur, kinds, result.methods, result.thresholds)
    return parse_snapshot(snapshot.dict())
