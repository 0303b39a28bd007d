"""Batch prediction for fitted HistGradientBoosting boosters, equal to their own `_raw_predict`: the input binned once
per group of boosters that bin alike, rows walked in blocks over threads that meet once per block (not at an OpenMP
barrier after every tree).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting
from threadpoolctl import threadpool_limits

# Batch scoring uses every core: PREDICT_THREADS threads take blocks of rows in turn and each walks
# its block through every tree alone, so threads meet once per block, not at an OpenMP barrier after
# every tree (on a machine shared with busy jobs those barriers made scoring several times slower).
# $JOURNEYOPS_PREDICT_THREADS=1 still keeps scoring on one core.
PREDICT_THREADS = int(os.environ.get("JOURNEYOPS_PREDICT_THREADS", str(os.cpu_count() or 1)))


# Each scoring thread takes two blocks of rows in turn (a thread slowed by other jobs leaves its
# second block to the others), blocks of at least this many rows: each block pays fixed costs
# (validation, the boosters' own category codes, binning set-up): 4k-row blocks cost 40% more CPU.
PREDICT_MIN_BLOCK_ROWS = 16_384


def _same_bins(a: BaseHistGradientBoosting, b: BaseHistGradientBoosting) -> bool:
    """Whether two boosters turn the same X into the same bins (fit on the same rows)."""
    if (a._preprocessor is None) != (b._preprocessor is None):
        return False
    if a._preprocessor is not None:
        cats_a = a._preprocessor.named_transformers_["encoder"].categories_
        cats_b = b._preprocessor.named_transformers_["encoder"].categories_
        if len(cats_a) != len(cats_b) or not all(
            np.array_equal(x, y, equal_nan=True) for x, y in zip(cats_a, cats_b, strict=True)
        ):
            return False
    bins_a, bins_b = a._bin_mapper, b._bin_mapper
    return (
        bins_a.missing_values_bin_idx_ == bins_b.missing_values_bin_idx_
        and np.array_equal(bins_a.is_categorical_, bins_b.is_categorical_)
        and len(bins_a.bin_thresholds_) == len(bins_b.bin_thresholds_)
        and all(np.array_equal(x, y) for x, y in zip(bins_a.bin_thresholds_, bins_b.bin_thresholds_, strict=True))
    )


def _raw_from_bins(booster: BaseHistGradientBoosting, binned: np.ndarray) -> np.ndarray:
    # The sum `_raw_predict` computes, in the same order, from bins: a split on bin b is the split on
    # the b-th threshold, and one byte per feature is far cheaper to walk than eight.
    raw = np.zeros((len(binned), 1), dtype=booster._baseline_prediction.dtype)
    raw += booster._baseline_prediction
    missing = booster._bin_mapper.missing_values_bin_idx_
    for (predictor,) in booster._predictors:
        raw[:, 0] += predictor.predict_binned(binned, missing, 1)
    return raw[:, 0]


def _own_codes(booster: BaseHistGradientBoosting, X: np.ndarray) -> np.ndarray:
    # What the booster's internal preprocessor makes of X (its own codes of the categorical columns
    # first, unknown ones NaN, then the numbers), by a sorted look-up: the ColumnTransformer costs
    # ~4 ms a call whatever the rows, most of one order's online scoring.
    pre = booster._preprocessor
    if pre is None:
        return X
    if X.shape[1] != booster.n_features_in_:
        return booster._preprocess_X(X, reset=False)  # let scikit-learn raise its own error
    out = np.empty(X.shape, dtype=np.float64)
    categorical = np.flatnonzero(booster.is_categorical_)
    codes = np.empty((len(X), len(categorical)), dtype=np.float64)
    for i, (column, known) in enumerate(zip(categorical, pre.named_transformers_["encoder"].categories_, strict=True)):
        known = known[~np.isnan(known)]
        values = X[:, column]
        position = np.minimum(np.searchsorted(known, values), max(len(known) - 1, 0))
        hit = (known[position] == values) if len(known) else np.zeros(len(values), dtype=bool)
        codes[:, i] = np.where(hit, position, np.nan)
    out[:, pre.output_indices_["encoder"]] = codes
    out[:, pre.output_indices_["numerical"]] = X[:, ~booster.is_categorical_]
    return out


def _raw_block(groups: list[list[BaseHistGradientBoosting]], X: np.ndarray) -> list[np.ndarray]:
    out = []
    for group in groups:
        # The booster's own category codes, then its bins, once for every booster binning alike.
        binned = np.ascontiguousarray(group[0]._bin_mapper.transform(_own_codes(group[0], X)))
        out += [_raw_from_bins(booster, binned) for booster in group]
    return out


def raw_predictions(boosters: Sequence[BaseHistGradientBoosting], X: np.ndarray) -> np.ndarray:
    """(n, len(boosters)) raw predictions (sums of leaf values), equal to each booster's
    `_raw_predict`: X binned once per group of boosters sharing their bins, rows in blocks over
    PREDICT_THREADS threads."""
    X = np.asarray(X, dtype=np.float64)
    if any(b.n_trees_per_iteration_ != 1 for b in boosters):
        with threadpool_limits(PREDICT_THREADS):
            return np.column_stack([b._raw_predict(X).ravel() for b in boosters])
    if not len(X):
        return np.empty((0, len(boosters)))
    groups: list[list[int]] = []
    for j, booster in enumerate(boosters):
        match = next((g for g in groups if _same_bins(boosters[g[0]], booster)), None)
        if match is None:
            groups.append([j])
        else:
            match.append(j)
    grouped = [[boosters[j] for j in g] for g in groups]
    order = [j for g in groups for j in g]
    size = max(PREDICT_MIN_BLOCK_ROWS, -(-len(X) // (2 * PREDICT_THREADS if PREDICT_THREADS > 1 else 1)))
    blocks = [X[i : i + size] for i in range(0, len(X), size)]
    threads = max(1, min(PREDICT_THREADS, len(blocks)))
    # Every tree walk is given one thread explicitly (no threadpool_limits: ~8 ms a call).
    if threads == 1:
        parts = [_raw_block(grouped, block) for block in blocks]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda block: _raw_block(grouped, block), blocks))
    raw = np.empty((len(X), len(boosters)), dtype=np.float64)
    for j, column in enumerate(order):
        raw[:, column] = np.concatenate([part[j] for part in parts])
    return raw
