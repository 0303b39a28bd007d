"""Metrics of the forecaster and the stuck classifier, the business cost, and their segment tables.

Everything takes arrays or prefix frames and returns plain floats/dicts (JSON-able), so a page, a
report and the gate read the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from core.domain import CostAssumptions

HOURS_PER_DAY = 24.0
DEFAULT_TRIAGE_CAPACITY = 50  # orders the triage team works per day


def forecast_costs(actual_h: np.ndarray, p50_h: np.ndarray, costs: CostAssumptions) -> np.ndarray:
    """Cost of each shown ETA (the p50): late -> cost per day late plus contacts (up to one for the
    first day late, since customers call more the later it is); early -> cost of a too-cautious
    promise per day."""
    late_days = np.clip(actual_h - p50_h, 0.0, None) / HOURS_PER_DAY
    early_days = np.clip(p50_h - actual_h, 0.0, None) / HOURS_PER_DAY
    return (
        costs.late_cost_per_day * late_days
        + costs.contact_cost * np.minimum(late_days, 1.0)
        + costs.early_promise_cost_per_day * early_days
    )


def forecast_metrics(actual_h: np.ndarray, quantiles_h: np.ndarray) -> dict[str, float]:
    """MAE / median AE (hours and days), 80% interval coverage and width, and the bias shares."""
    actual_h = np.asarray(actual_h, dtype=np.float64)
    p10, p50, p90 = (np.asarray(quantiles_h, dtype=np.float64)[:, i] for i in range(3))
    error = np.abs(actual_h - p50)
    if len(actual_h) == 0:
        return {}
    return {
        "mae_h": float(error.mean()),
        "mae_days": float(error.mean() / HOURS_PER_DAY),
        "median_ae_h": float(np.median(error)),
        "median_ae_days": float(np.median(error) / HOURS_PER_DAY),
        "coverage_80": float(np.mean((actual_h >= p10) & (actual_h <= p90))),
        "below_p10": float(np.mean(actual_h < p10)),
        "above_p90": float(np.mean(actual_h > p90)),
        "interval_width_h": float(np.mean(p90 - p10)),
        "interval_width_median_h": float(np.median(p90 - p10)),
        # Too early: the ETA shown came before the delivery (the customer waits past it).
        "share_too_early": float(np.mean(actual_h > p50)),
        "share_too_late": float(np.mean(actual_h < p50)),
        "mean_error_h": float(np.mean(p50 - actual_h)),
    }


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate − mean probability| over equal-count bins, weighted by bin size."""
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, bins)
    total = len(p)
    return float(sum(len(b) / total * abs(y[b].mean() - p[b].mean()) for b in parts if len(b)))


def top_k_mask(p: np.ndarray, day: np.ndarray, k: int) -> np.ndarray:
    """Rows in the top k by probability within each day (the triage list)."""
    frame = pd.DataFrame({"p": p, "day": day})
    rank = frame.groupby("day")["p"].rank(method="first", ascending=False)
    return (rank <= k).to_numpy()


def classifier_costs(y: np.ndarray, p: np.ndarray, day: np.ndarray, k: int, costs: CostAssumptions) -> np.ndarray:
    """Per-row cost when the top k a day are checked: a check costs, a stuck order not checked costs."""
    checked = top_k_mask(p, day, k)
    return checked * costs.triage_check_cost + (~checked & (y == 1)) * costs.missed_stuck_cost


def classifier_metrics(y: np.ndarray, p: np.ndarray, day: np.ndarray, k: int) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, calibration error, precision@k (k a day) and the base rate."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return {}
    both = len(np.unique(y)) == 2
    checked = top_k_mask(p, day, k)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "calibration_error": expected_calibration_error(y, p),
        "precision_at_k": float(y[checked].mean()) if checked.any() else float("nan"),
        "recall_at_k": float(y[checked].sum() / max(1, y.sum())),
        "k_per_day": float(k),
        "positive_rate": float(y.mean()),
        "mean_probability": float(p.mean()),
    }
