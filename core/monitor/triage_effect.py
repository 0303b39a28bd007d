"""Treated against held out: orders on the would-be list that were shown to triage against those held out (the arm an
order was first listed in), on getting stuck after being listed, contacts and SLA breaches, with bootstrap 95%
confidence intervals (orders resampled within each arm, fixed seed). Held-out orders are a random share of the list,
so the difference is the triage effect.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from core.domain import CostAssumptions
from core.errors import ConfigError

# holdout metric -> (per-order outcome column, display scale, unit, cost field or None)
HOLDOUT_METRICS: dict[str, tuple[str, float, str, str | None]] = {
    "stuck_pct": ("stuck", 100.0, "% of listed orders stuck after listing", "missed_stuck_cost"),
    "contacts_per_1000_orders": (
        "contacts",
        1000.0,
        "contacts per 1,000 listed orders",
        "contact_cost",
    ),
    "sla_breach_pct": ("sla_breach", 100.0, "% of listed orders", "sla_breach_cost"),
    "late_h": ("late_h", 1.0, "hours past the promise per listed order", None),
}


ALL_WEEKS = "all"


def iso_week(week_start: pd.Series) -> pd.Series:
    """The ISO week label (YYYY-Www) of each week start."""
    return pd.to_datetime(week_start).dt.strftime("%G-W%V")


def _bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int = 200) -> np.ndarray:
    """Means of each column over `n_boot` resamples of the rows (NaN cells skipped): (n_boot, columns)."""
    n = values.shape[0]
    valid = ~np.isnan(values)
    filled = np.where(valid, values, 0.0)
    out = np.empty((n_boot, values.shape[1]))
    probs = np.full(n, 1.0 / n)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        weights = rng.multinomial(n, probs, size=stop - start).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:stop] = (weights @ filled) / (weights @ valid)
    return out


def _column_means(values: np.ndarray) -> np.ndarray:
    """Each column's mean over its non-NaN cells; NaN for a column with none (np.nanmean warns there:
    e.g. no order of an imported log has a promise, so none has an SLA outcome)."""
    valid = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 is the NaN of an empty column
        return np.where(valid, values, 0.0).sum(axis=0) / valid.sum(axis=0)


def compare_holdout(
    listed_orders: pd.DataFrame,
    costs: CostAssumptions | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    by_week: bool = True,
) -> pd.DataFrame:
    """Grain: week of first listing (and 'all') × metric — treated vs held out with bootstrap 95% CIs.

    effect = treated − held out (in the metric's unit); value_eur = (held-out − treated cost per order)
    × treated orders, positive when triage saved money; triage_value_eur sums the money metrics per
    resample. `significant`: the 95% CI of the effect excludes 0 (both arms need 2+ orders).
    """
    if n_boot < 100:
        raise ConfigError(f"n_boot must be at least 100 for a 95% interval, got {n_boot}")
    costs = costs or CostAssumptions()
    columns = [
        "iso_week",
        "week_start",
        "metric",
        "unit",
        "treated_orders",
        "held_out_orders",
        "treated_value",
        "held_out_value",
        "effect",
        "effect_ci_low",
        "effect_ci_high",
        "significant",
        "value_eur",
        "value_ci_low_eur",
        "value_ci_high_eur",
    ]
    if listed_orders.empty:
        return pd.DataFrame(columns=columns)
    outcome_cols = [spec[0] for spec in HOLDOUT_METRICS.values()]
    scale = np.array([spec[1] for spec in HOLDOUT_METRICS.values()])
    unit_cost = np.array([getattr(costs, spec[3]) if spec[3] else 0.0 for spec in HOLDOUT_METRICS.values()])
    groups: list[tuple[str, pd.Timestamp | None, pd.DataFrame]] = [(ALL_WEEKS, None, listed_orders)]
    if by_week:
        for week, part in listed_orders.groupby("week_start", sort=True):
            groups.insert(len(groups) - 1, (iso_week(pd.Series([week])).iloc[0], pd.Timestamp(week), part))
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    rows = []
    for (label, week, part), seq in zip(groups, seeds, strict=True):
        rng = np.random.default_rng(seq)
        arms = {held: _arm(part, held, outcome_cols, n_boot, rng) for held in (False, True)}
        rows += _group_rows(label, week, arms[False], arms[True], scale, unit_cost)
    frame = pd.DataFrame(rows, columns=columns)
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    return frame


_Arm = tuple[int, np.ndarray, np.ndarray | None]


def _arm(part: pd.DataFrame, held: bool, outcome_cols: list[str], n_boot: int, rng: np.random.Generator) -> _Arm:
    """One arm's orders: their count, mean outcomes and bootstrap means (None below 2 orders)."""
    values = part.loc[part["held_out"] == held, outcome_cols].to_numpy(dtype=np.float64)
    point = _column_means(values)
    boot = _bootstrap_means(values, n_boot, rng) if len(values) >= 2 else None
    return len(values), point, boot


def _group_rows(
    label: str,
    week: pd.Timestamp | None,
    treated: _Arm,
    held_out: _Arm,
    scale: np.ndarray,
    unit_cost: np.ndarray,
) -> list[dict[str, Any]]:
    """A group's rows: each metric's effect and money value with their CIs, then the triage value."""
    (n_t, point_t, boot_t), (n_h, point_h, boot_h) = treated, held_out
    effect = (point_t - point_h) * scale
    # money per order: outcome × unit cost; value = (held out − treated) × treated orders
    value = (point_h - point_t) * unit_cost * n_t
    lo_e, hi_e, lo_v, hi_v, total_lo, total_hi = _intervals(boot_t, boot_h, scale, unit_cost, n_t)
    rows = []
    for i, (metric, spec) in enumerate(HOLDOUT_METRICS.items()):
        has_money = spec[3] is not None
        rows.append(
            {
                "iso_week": label,
                "week_start": week,
                "metric": metric,
                "unit": spec[2],
                "treated_orders": n_t,
                "held_out_orders": n_h,
                "treated_value": point_t[i] * scale[i],
                "held_out_value": point_h[i] * scale[i],
                "effect": effect[i],
                "effect_ci_low": lo_e[i],
                "effect_ci_high": hi_e[i],
                "significant": bool(lo_e[i] > 0 or hi_e[i] < 0),
                "value_eur": value[i] if has_money else np.nan,
                "value_ci_low_eur": lo_v[i] if has_money else np.nan,
                "value_ci_high_eur": hi_v[i] if has_money else np.nan,
            }
        )
    rows.append(
        {
            "iso_week": label,
            "week_start": week,
            "metric": "triage_value_eur",
            "unit": "EUR",
            "treated_orders": n_t,
            "held_out_orders": n_h,
            "treated_value": np.nan,
            "held_out_value": np.nan,
            "effect": np.nan,
            "effect_ci_low": np.nan,
            "effect_ci_high": np.nan,
            "significant": bool(total_lo > 0 or total_hi < 0),
            "value_eur": float(np.nansum(np.where(unit_cost > 0, value, 0.0))),
            "value_ci_low_eur": total_lo,
            "value_ci_high_eur": total_hi,
        }
    )
    return rows


def _intervals(
    boot_t: np.ndarray | None,
    boot_h: np.ndarray | None,
    scale: np.ndarray,
    unit_cost: np.ndarray,
    n_t: int,
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """95% CIs of each metric's effect and money value, and of the triage value (NaN without resamples)."""
    if boot_t is not None and boot_h is not None:
        diff = boot_t - boot_h
        money = -diff * unit_cost * n_t
        # A metric with no outcome in an arm (no promises in an imported log) has no interval: NaN.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
            lo_e, hi_e = np.nanpercentile(diff * scale, [2.5, 97.5], axis=0)
            lo_v, hi_v = np.nanpercentile(money, [2.5, 97.5], axis=0)
        total_boot = np.nansum(np.where(unit_cost > 0, money, 0.0), axis=1)
        total_lo, total_hi = np.percentile(total_boot, [2.5, 97.5])
    else:
        lo_e = hi_e = lo_v = hi_v = np.full(len(scale), np.nan)
        total_lo = total_hi = np.nan
    return lo_e, hi_e, lo_v, hi_v, total_lo, total_hi
