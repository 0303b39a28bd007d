"""The estimators: a conformalised quantile forecaster, a hold-out calibrated classifier, and the
naive baselines beside them. All follow scikit-learn conventions and sit at the end of a Pipeline
whose first step encodes the prefix features (`make_preprocessor`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from core.models import boosting

QUANTILES: tuple[float, float, float] = (0.1, 0.5, 0.9)
# HistGradientBoosting takes at most 255 bins per feature; rarer categories share one code.
MAX_CATEGORIES = 250
# Fitting too: on a quiet 2-core machine two threads fit ~1.5x faster, but next to other jobs (the
# daily run, the API, the app) spinning OpenMP threads made a retrain 3x slower in wall time.
FIT_THREADS = 1


def make_preprocessor(categorical: Sequence[str], numeric: Sequence[str]) -> ColumnTransformer:
    """Categoricals to ordinal codes (unknown and missing become NaN), numbers passed through."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_CATEGORIES,
        dtype=np.float64,
    )
    return ColumnTransformer(
        [("categorical", encoder, list(categorical)), ("numeric", "passthrough", list(numeric))],
        verbose_feature_names_out=False,
        sparse_threshold=0.0,
    )


def _split_rows(n: int, calibration_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros(n, dtype=bool) if calibration_mask is None else np.asarray(calibration_mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"calibration_mask has shape {mask.shape}, expected ({n},)")
    if mask.all():
        raise ValueError("calibration_mask marks every row; leave rows to fit on")
    return ~mask, mask


def _finite_sample_quantile(scores: np.ndarray, level: float) -> float:
    """The conformal quantile: the ceil((n + 1) * level)-th smallest score."""
    n = len(scores)
    rank = min(n, int(np.ceil((n + 1) * level)))
    return float(np.partition(scores, rank - 1)[rank - 1])


class ConformalQuantileRegressor(RegressorMixin, BaseEstimator):
    """p10/p50/p90 of a non-negative target from quantile gradient boosting on log1p(y), each bound
    moved by a conformal correction on the calibration rows (the most recent window before the test)
    so that each tail holds its share; the median is re-centred on the same rows.

    The bounds are conformalised in the target's own units (CQR: one additive correction per tail, in
    hours), not in log space: a log-space shift scales with the forecast, so it barely moves the lower
    bound of short remaining times, the ones that drift below p10 when a process speeds up. The median
    stays re-centred in log space (`offsets_`); `bound_offsets_` holds the two bound corrections.
    Models fitted before `bound_offsets_` existed keep their log-space bound offsets."""

    def __init__(
        self,
        quantiles: Sequence[float] = QUANTILES,
        categorical_features: Sequence[int] | None = None,
        max_iter: int = 150,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        l2_regularization: float = 0.0,
        bound_max_iter: int | None = 60,
        bound_learning_rate: float = 0.2,
        recenter: bool = True,
        random_state: int | None = 0,
    ) -> None:
        self.quantiles = quantiles
        self.categorical_features = categorical_features
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.bound_max_iter = bound_max_iter
        self.bound_learning_rate = bound_learning_rate
        self.recenter = recenter
        self.random_state = random_state

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        calibration_mask: np.ndarray | None = None,
        refit_on_all: bool = False,
    ) -> ConformalQuantileRegressor:
        """Fit one booster per quantile on the non-calibration rows, then calibrate on the rest.

        With `refit_on_all` the boosters are fitted once more on every row (the calibration rows
        too) and keep the corrections measured out of sample: the deployed fit, whose newest
        journeys must reach the trees rather than only the calibration."""
        X = np.asarray(X, dtype=np.float64)
        z = np.log1p(np.clip(np.asarray(y, dtype=np.float64), 0.0, None))
        fit_rows, cal_rows = _split_rows(len(z), calibration_mask)
        with threadpool_limits(FIT_THREADS):
            self.estimators_ = self._fit_boosters(X, z, fit_rows)
        self.offsets_ = np.zeros(len(self.quantiles))
        self.bound_offsets_ = np.zeros(2)
        if cal_rows.sum() >= 20:
            raw = self._raw(X[cal_rows])
            z_cal = z[cal_rows]
            y_cal, bounds = np.expm1(z_cal), np.expm1(raw[:, [0, -1]])
            lo, hi = self.quantiles[0], self.quantiles[-1]
            # Each tail on its own, in target units: P(y < lo') = lo and P(y > hi') = 1 - hi on the
            # calibration rows.
            self.bound_offsets_[0] = -_finite_sample_quantile(bounds[:, 0] - y_cal, 1.0 - lo)
            self.bound_offsets_[1] = _finite_sample_quantile(y_cal - bounds[:, 1], hi)
            if self.recenter:
                for i in range(1, len(self.quantiles) - 1):
                    self.offsets_[i] = float(np.quantile(z_cal - raw[:, i], 0.5))
        if refit_on_all and cal_rows.any():
            with threadpool_limits(FIT_THREADS):
                self.estimators_ = self._fit_boosters(X, z, np.ones(len(z), dtype=bool))
            # The trees have now seen the calibration window: re-centring the median on it again
            # would count its shift twice. The bound corrections stay (the daily calibration adjusts them).
            self.offsets_ = np.zeros(len(self.quantiles))
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_boosters(self, X: np.ndarray, z: np.ndarray, fit_rows: np.ndarray) -> list[HistGradientBoostingRegressor]:
        categorical = list(self.categorical_features) if self.categorical_features else None
        return [
            HistGradientBoostingRegressor(
                loss="quantile",
                quantile=q,
                categorical_features=categorical,
                max_iter=self._iterations(q)[0],
                learning_rate=self._iterations(q)[1],
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                early_stopping=False,
                random_state=self.random_state,
            ).fit(X[fit_rows], z[fit_rows])
            for q in self.quantiles
        ]

    def _iterations(self, quantile: float) -> tuple[int, float]:
        # The bounds are conformally corrected afterwards, so they can be cheaper boosters than the
        # median (fewer trees: batch scoring speed is dominated by the number of trees).
        if self.bound_max_iter is None or quantile == self.quantiles[len(self.quantiles) // 2]:
            return self.max_iter, self.learning_rate
        return self.bound_max_iter, self.bound_learning_rate

    def _raw(self, X: np.ndarray) -> np.ndarray:
        raw = boosting.raw_predictions(self.estimators_, X)
        return np.column_stack([est._loss.link.inverse(raw[:, j]) for j, est in enumerate(self.estimators_)])

    def predict_quantiles(self, X: np.ndarray) -> np.ndarray:
        """(n, len(quantiles)) array of the target's quantiles, ordered, in target units."""
        check_is_fitted(self, "estimators_")
        z = self._raw(np.asarray(X, dtype=np.float64)) + self.offsets_
        bound_offsets = getattr(self, "bound_offsets_", None)
        if bound_offsets is None:  # fitted before the bounds were corrected in target units
            return np.expm1(np.clip(np.sort(z, axis=1), 0.0, None))
        y = np.expm1(z)
        y[:, 0] += bound_offsets[0]
        y[:, -1] += bound_offsets[1]
        return np.clip(np.sort(y, axis=1), 0.0, None)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The median forecast."""
        return self.predict_quantiles(X)[:, len(self.quantiles) // 2]


# CalibratedClassifierCV fits its calibrator over this many stratified folds of the calibration rows
# (its default), even around a frozen booster, and refuses a fold without both classes: with fewer
# stuck (or unstuck) rows than folds the booster stays uncalibrated (a small imported log crashed).
CALIBRATION_FOLDS = 5


def _each_class_has(y: np.ndarray, rows: int) -> bool:
    """Whether both classes (0 and 1) are there, each at least `rows` times."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    return len(counts) == 2 and int(counts.min()) >= rows


class HoldoutCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """A gradient-boosting classifier fit on the non-calibration rows, with probabilities calibrated
    (isotonic) on the calibration rows: the most recent window before the test."""

    def __init__(
        self,
        categorical_features: Sequence[int] | None = None,
        max_iter: int = 100,
        learning_rate: float = 0.12,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        method: str = "isotonic",
        random_state: int | None = 0,
    ) -> None:
        self.categorical_features = categorical_features
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.method = method
        self.random_state = random_state

    def fit(
        self, X: np.ndarray, y: np.ndarray, calibration_mask: np.ndarray | None = None
    ) -> HoldoutCalibratedClassifier:
        """Fit on the non-calibration rows, calibrate on the rest (when both classes are there, each in
        at least `CALIBRATION_FOLDS` rows)."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(int)
        fit_rows, cal_rows = _split_rows(len(y), calibration_mask)
        with threadpool_limits(FIT_THREADS):
            booster = self._fit_booster(X[fit_rows], y[fit_rows])
        if cal_rows.sum() >= 20 and _each_class_has(y[cal_rows], CALIBRATION_FOLDS):
            self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(booster), method=self.method).fit(
                X[cal_rows], y[cal_rows]
            )
        else:
            self.calibrated_ = booster
        self.classes_ = self.calibrated_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_booster(self, X: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            categorical_features=list(self.categorical_features) if self.categorical_features else None,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X, y)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities."""
        check_is_fitted(self, "calibrated_")
        X = np.asarray(X, dtype=np.float64)
        booster, calibrator = self._booster_and_calibrator()
        if booster is None:
            with threadpool_limits(boosting.PREDICT_THREADS):
                return self.calibrated_.predict_proba(X)
        decision = boosting.raw_predictions([booster], X)[:, 0]
        # What CalibratedClassifierCV (one frozen binary booster) and the booster compute from it.
        if calibrator is None:
            return booster._loss.predict_proba(decision)
        proba = np.zeros((len(X), 2))
        proba[:, 1] = calibrator.predict(decision)
        proba[:, 0] = 1.0 - proba[:, 1]
        return proba

    def _booster_and_calibrator(self) -> tuple[HistGradientBoostingClassifier | None, Any]:
        # The fast path covers the shapes `fit` makes: a binary booster, bare or in one calibration.
        model = self.calibrated_
        if isinstance(model, HistGradientBoostingClassifier):
            return (model, None) if len(model.classes_) == 2 else (None, None)
        fitted = getattr(model, "calibrated_classifiers_", [])
        if not isinstance(model, CalibratedClassifierCV) or len(fitted) != 1 or len(model.classes_) != 2:
            return None, None
        inner = fitted[0].estimator
        booster = inner.estimator if isinstance(inner, FrozenEstimator) else inner
        if not isinstance(booster, HistGradientBoostingClassifier) or len(fitted[0].calibrators) != 1:
            return None, None
        if fitted[0].method not in ("isotonic", "sigmoid") or not np.array_equal(booster.classes_, model.classes_):
            return None, None
        return booster, fitted[0].calibrators[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The more probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _keys(X: np.ndarray, depth: int) -> pd.DataFrame:
    return pd.DataFrame(np.nan_to_num(np.asarray(X, dtype=np.float64)[:, :depth], nan=-1.0)).add_prefix("k")


class GroupQuantileRegressor(RegressorMixin, BaseEstimator):
    """The naive baseline: quantiles of the target per group of the input columns (all of them,
    then fewer from the right, then overall), for groups with at least ``min_group_size`` rows."""

    def __init__(self, quantiles: Sequence[float] = QUANTILES, min_group_size: int = 5) -> None:
        self.quantiles = quantiles
        self.min_group_size = min_group_size

    def fit(self, X: np.ndarray, y: np.ndarray) -> GroupQuantileRegressor:
        """Tabulate the quantiles of y per key."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.tables_ = []
        for depth in range(X.shape[1], 0, -1):
            keys = _keys(X, depth)
            grouped = pd.Series(y).groupby([keys[c] for c in keys.columns])
            table = grouped.quantile(list(self.quantiles)).unstack()
            table = table[grouped.size() >= self.min_group_size]
            self.tables_.append(table.reset_index().to_numpy())
        self.overall_ = np.quantile(y, list(self.quantiles))
        self.n_features_in_ = X.shape[1]
        return self

    def predict_quantiles(self, X: np.ndarray) -> np.ndarray:
        """(n, len(quantiles)) quantiles of the most specific group each row falls in."""
        check_is_fitted(self, "tables_")
        n_q = len(self.quantiles)
        out = np.tile(self.overall_, (len(X), 1)).astype(np.float64)
        found = np.zeros(len(X), dtype=bool)
        for table in self.tables_:
            depth = table.shape[1] - n_q
            keys = _keys(X, depth)
            lookup = pd.DataFrame(table, columns=[*keys.columns, *range(n_q)])
            hit = keys.merge(lookup, how="left", on=list(keys.columns))[list(range(n_q))].to_numpy()
            use = ~found & ~np.isnan(hit[:, 0])
            out[use] = hit[use]
            found |= use
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The group median."""
        return self.predict_quantiles(X)[:, len(self.quantiles) // 2]


class GroupRateClassifier(ClassifierMixin, BaseEstimator):
    """The naive baseline classifier: the positive rate of the first input column's group
    (the current stage), else overall."""

    def __init__(self, min_group_size: int = 5) -> None:
        self.min_group_size = min_group_size

    def fit(self, X: np.ndarray, y: np.ndarray) -> GroupRateClassifier:
        """Tabulate the positive rate per group."""
        keys = _keys(X, 1)["k0"]
        y = np.asarray(y).astype(int)
        grouped = pd.Series(y).groupby(keys)
        rates = grouped.mean()[grouped.size() >= self.min_group_size]
        self.table_ = np.column_stack([rates.index.to_numpy(), rates.to_numpy()])
        self.overall_ = float(y.mean())
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """[1 - rate, rate] of each row's group."""
        check_is_fitted(self, "table_")
        rates = pd.Series(self.table_[:, 1], index=self.table_[:, 0])
        p = _keys(X, 1)["k0"].map(rates).fillna(self.overall_).to_numpy()
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The more probable class."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def make_forecaster(categorical: Sequence[str], numeric: Sequence[str], **params: Any) -> Pipeline:
    """The delivery forecaster: encoding + conformalised quantile boosting."""
    model = ConformalQuantileRegressor(categorical_features=list(range(len(categorical))) or None, **params)
    return Pipeline([("features", make_preprocessor(categorical, numeric)), ("model", model)])


def make_classifier(categorical: Sequence[str], numeric: Sequence[str], **params: Any) -> Pipeline:
    """The stuck classifier: encoding + calibrated boosting."""
    model = HoldoutCalibratedClassifier(categorical_features=list(range(len(categorical))) or None, **params)
    return Pipeline([("features", make_preprocessor(categorical, numeric)), ("model", model)])


def make_baseline_forecaster(group_columns: Sequence[str] = ("current_stage", "prefix_len")) -> Pipeline:
    """Median (and p10/p90) remaining time per group, e.g. (current stage, prefix length)."""
    categorical = [c for c in group_columns if c != "prefix_len"]
    numeric = [c for c in group_columns if c == "prefix_len"]
    return Pipeline([("features", make_preprocessor(categorical, numeric)), ("model", GroupQuantileRegressor())])


def make_baseline_classifier() -> Pipeline:
    """The stuck rate per current stage."""
    return Pipeline([("features", make_preprocessor(["current_stage"], [])), ("model", GroupRateClassifier())])


OWN_TYPES: tuple[str, ...] = tuple(
    f"{cls.__module__}.{cls.__qualname__}"
    for cls in (ConformalQuantileRegressor, HoldoutCalibratedClassifier, GroupQuantileRegressor, GroupRateClassifier)
)
