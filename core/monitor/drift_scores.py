"""Evidently's drift scores, computed the way its stat tests compute them, without building a report.

Evidently 0.7's `ValueDrift` scores a column with a registered stat test on the column's finite,
non-missing values (`get_one_column_drift` drops NaN and ±inf on each side) and calls it drifted
when `score >= threshold`. For the two methods the monitor uses, the same arithmetic here:

- `wasserstein` (numeric): `scipy.stats.wasserstein_distance(ref, cur) / max(std(ref), 0.001)`,
  the population std (ddof 0) of the reference. The distance is scipy's own algorithm (sorted
  values, the merged sorted support, both empirical CDFs on it, `vecdot(|F_ref - F_cur|, steps)`),
  with `np.sort` in place of its `argsort` + gather, which yields the same sorted arrays.
- `jensenshannon` (categorical): the share of each value (every value of either side; a value
  absent from one side has share 0 there, no zero-filling) over the side's row count, then
  `scipy.spatial.distance.jensenshannon` with the natural log.

Any other method falls back to Evidently's own stat test (`drift_evidently.score_column`).
`tests/test_drift_parity.py` pins these scores to Evidently's report's to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FAST_METHODS: frozenset[tuple[str, str]] = frozenset({("numeric", "wasserstein"), ("categorical", "jensenshannon")})


def finite_values(series: pd.Series) -> pd.Series:
    """The values Evidently scores: ±inf and missing dropped."""
    if pd.api.types.is_float_dtype(series):
        return series[np.isfinite(series.to_numpy())]
    return series.dropna()


def wasserstein_norm(reference: pd.Series, current: pd.Series) -> float:
    """Normed Wasserstein distance exactly as Evidently's `wasserstein` stat test computes it."""
    ref = np.sort(reference.to_numpy(dtype=float))
    cur = np.sort(current.to_numpy(dtype=float))
    norm = max(float(np.std(reference)), 0.001)  # np.std of a Series: pandas' std, ddof 0, as Evidently
    support = np.concatenate((ref, cur))
    support.sort(kind="mergesort")
    steps = np.diff(support)
    ref_cdf = ref.searchsorted(support[:-1], "right") / ref.size
    cur_cdf = cur.searchsorted(support[:-1], "right") / cur.size
    return float(np.vecdot(np.abs(ref_cdf - cur_cdf), steps)) / norm


def jensenshannon_categorical(reference: pd.Series, current: pd.Series) -> float:
    """Jensen-Shannon distance (natural log) of two value mixes, as Evidently's `jensenshannon` on a
    categorical column."""
    from scipy.spatial import distance

    ref_counts, cur_counts = reference.value_counts(), current.value_counts()
    values = ref_counts.index.union(cur_counts.index)
    ref_share = ref_counts.reindex(values, fill_value=0).to_numpy() / len(reference)
    cur_share = cur_counts.reindex(values, fill_value=0).to_numpy() / len(current)
    return float(distance.jensenshannon(ref_share, cur_share))


def score_column(reference: pd.Series, current: pd.Series, kind: str, method: str) -> float:
    """One column's drift score, equal to Evidently's for the same values, kind and method."""
    reference, current = finite_values(reference), finite_values(current)
    if (kind, method) == ("numeric", "wasserstein"):
        return wasserstein_norm(reference, current)
    if (kind, method) == ("categorical", "jensenshannon"):
        return jensenshannon_categorical(reference, current)
    from core.monitor import drift_evidently

    return drift_evidently.score_column(reference, current, kind, method)
