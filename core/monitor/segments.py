"""Segments and bias: forecast and triage figures per carrier, region, channel, ship mode and tier.

Each figure of a segment level is set beside the overall figure, with the gap and whether it is
significant. Only realised outcomes count (matured forecasts, listings whose outcome is known).
The unit is the order: an order forecast on many mornings is one observation (the mean over its
forecasts), so repeated mornings do not inflate the evidence. The test is **Welch's two-sample
t-test** (unequal variances) of the level's orders against all other orders, two-sided; a level
with fewer than `min_orders` orders (or a rest with fewer than 2) is never called significant.
For a 0/1 figure (a share) Welch's test is the large-sample two-proportion test.

**Multiplicity.** One day's table runs one test per level × metric (about a hundred), so at 5% each
a handful of gaps would be "significant" by chance alone. The family is every test of one table (one
day) that can be called significant (enough orders on both sides, a p-value); its p-values are
adjusted with **Benjamini–Hochberg**, and a gap is significant when its adjusted p-value is below 5%.
Why BH and not Holm: the page is a screen of gaps worth a look, so what matters is the share of
flagged gaps that are false (the false discovery rate, kept at 5%), not a guarantee of no false flag
at all; Holm's family-wise guarantee over ~100 tests would hide real gaps of the small levels. The
tests of one table are mostly positively dependent (the metrics share orders), under which BH holds
(Benjamini & Yekutieli 2001). Levels that cannot be called significant keep their raw p-value and
no adjusted one, and do not count in the family.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy import stats

from core.config import StorePath
from core.domain import SEGMENT_COLUMNS, CostAssumptions
from core.errors import ConfigError
from core.monitor import accuracy

MISSING_LEVEL = "(missing)"
MIN_ORDERS = 30
ALPHA = 0.05
TEST_NAME = "welch_t"
CORRECTION = "benjamini_hochberg"
# metric -> (source, per-forecast/listing column, scale, unit)
SEGMENT_METRICS: dict[str, tuple[str, str, float, str]] = {
    "mae_h": ("forecast", "abs_error_h", 1.0, "hours"),
    "bias_h": ("forecast", "error_h", 1.0, "hours (p50 - actual; > 0 conservative)"),
    "coverage_80_pct": ("forecast", "covered", 100.0, "% within p10..p90"),
    "too_early_pct": ("forecast", "too_early", 100.0, "% delivered after the p50 ETA"),
    "too_late_pct": ("forecast", "too_late", 100.0, "% delivered before the p50 ETA"),
    "cost_per_forecast_eur": ("forecast", "cost_eur", 1.0, "EUR per forecast"),
    "stuck_after_listing_pct": ("listing", "stuck_after", 100.0, "% of listed orders stuck after listing"),
    "stuck_prob_bias_pct": ("listing", "prob_minus_outcome", 100.0, "points (stuck prob - outcome)"),
}
COLUMNS: tuple[str, ...] = (
    "segment",
    "level",
    "metric",
    "unit",
    "orders",
    "figure",
    "overall",
    "gap",
    "p_value",
    "p_value_adjusted",
    "significant",
    "test",
)


def adjust_benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values of one family, in the given order (NaN stays NaN, out of the family).

    The i-th smallest of m p-values becomes min over j >= i of p_(j) × m / j, capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    in_family = ~np.isnan(p)
    m = int(in_family.sum())
    if m == 0:
        return adjusted
    family = p[in_family]
    order = np.argsort(family, kind="stable")
    scaled = family[order] * m / np.arange(1, m + 1)
    step_up = np.minimum.accumulate(scaled[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(step_up, 1.0)
    adjusted[in_family] = values
    return adjusted


def _per_order(frame: pd.DataFrame, value_columns: list[str], segments: Sequence[str]) -> pd.DataFrame:
    """One row per order: the mean of each value over its rows, and its segment levels."""
    present = [c for c in segments if c in frame.columns]
    levels = frame[["order_id", *present]].drop_duplicates("order_id").set_index("order_id")
    levels = levels.astype(object).where(levels.notna(), MISSING_LEVEL)
    means = frame.groupby("order_id")[value_columns].mean()
    return means.join(levels)


def _welch(inside: np.ndarray, outside: np.ndarray) -> float:
    if len(inside) < 2 or len(outside) < 2:
        return float("nan")
    if np.var(inside) == 0 and np.var(outside) == 0:
        # no spread at all: equal means are no difference, unequal ones certainly are
        return 1.0 if inside.mean() == outside.mean() else 0.0
    with warnings.catch_warnings():
        # one constant side makes scipy warn about precision; the test is still well defined
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(inside, outside, equal_var=False).pvalue)


def _segment_rows(
    per_order: pd.DataFrame,
    metrics: dict[str, tuple[str, str, float, str]],
    segments: Sequence[str],
    min_orders: int,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for metric, (_, column, scale, unit) in metrics.items():
        values = per_order[column].to_numpy(dtype=np.float64)
        known = ~np.isnan(values)
        overall = float(values[known].mean() * scale) if known.any() else float("nan")
        for segment in segments:
            if segment not in per_order.columns:
                continue
            level_of = per_order[segment].to_numpy(dtype=object)
            for level in sorted(set(level_of[known]), key=str):  # a few levels per segment, not rows
                mask = known & (level_of == level)
                rest = known & (level_of != level)
                inside, outside = values[mask], values[rest]
                p_value = _welch(inside, outside)
                figure = float(inside.mean() * scale)
                rows.append(
                    {
                        "segment": segment,
                        "level": str(level),
                        "metric": metric,
                        "unit": unit,
                        "orders": int(mask.sum()),
                        "figure": figure,
                        "overall": overall,
                        "gap": figure - overall,
                        "p_value": p_value,
                        # in the family of the day's tests (see the module docstring); judged once all are in
                        "eligible": bool(mask.sum() >= min_orders and rest.sum() >= 2 and not np.isnan(p_value)),
                        "test": TEST_NAME,
                    }
                )
    return rows


def segment_metrics(
    scored_forecasts: pd.DataFrame,
    scored_listings: pd.DataFrame | None = None,
    *,
    segments: Sequence[str] = SEGMENT_COLUMNS,
    min_orders: int = MIN_ORDERS,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Grain: segment × level × metric — figure, overall, gap, Welch p-value, its Benjamini–Hochberg
    adjustment over the table's tests, and significance (adjusted p-value below `alpha`).

    `scored_forecasts` as from `accuracy.score_forecasts`, `scored_listings` as from
    `accuracy.score_listings`; estimated rows are left out.
    """
    rows: list[dict[str, object]] = []
    forecast_metrics = {k: v for k, v in SEGMENT_METRICS.items() if v[0] == "forecast"}
    realised = scored_forecasts.loc[~scored_forecasts["estimated"].astype(bool)]
    if not realised.empty:
        per_order = _per_order(realised, [v[1] for v in forecast_metrics.values()], segments)
        rows += _segment_rows(per_order, forecast_metrics, segments, min_orders)
    if scored_listings is not None:
        listing_metrics = {k: v for k, v in SEGMENT_METRICS.items() if v[0] == "listing"}
        known = scored_listings.loc[~scored_listings["estimated"].astype(bool)]
        if not known.empty:
            known = known.assign(prob_minus_outcome=known["stuck_prob"] - known["stuck_after"])
            per_order = _per_order(known, [v[1] for v in listing_metrics.values()], segments)
            rows += _segment_rows(per_order, listing_metrics, segments, min_orders)
    return _judge(pd.DataFrame(rows, columns=[*COLUMNS, "eligible"]), alpha)


def _judge(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Adjust the p-values of the table's family of tests together, and call the gaps significant on them."""
    eligible = table["eligible"].astype(bool).to_numpy()
    family = np.where(eligible, table["p_value"].to_numpy(dtype=np.float64), np.nan)
    adjusted = adjust_benjamini_hochberg(family)
    table["p_value_adjusted"] = adjusted
    table["significant"] = eligible & (np.nan_to_num(adjusted, nan=1.0) < alpha)
    return table[list(COLUMNS)]


def segment_table(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    segments: Sequence[str] = SEGMENT_COLUMNS,
    min_orders: int = MIN_ORDERS,
    costs: CostAssumptions | None = None,
) -> pd.DataFrame:
    """Grain: segment × level × metric of the store's realised forecasts and listings (Segments & bias page)."""
    at = accuracy.resolve_as_of(as_of, store_path)
    forecasts = accuracy.load_forecast_outcomes(store_path, as_of=at, since=since, costs=costs)
    listings = accuracy.load_listing_outcomes(store_path, as_of=at, since=since)
    return segment_metrics(forecasts, listings, segments=segments, min_orders=min_orders)


def level_orders(
    scored_forecasts: pd.DataFrame,
    scored_listings: pd.DataFrame | None,
    segment: str,
    level: str,
    metric: str,
) -> pd.DataFrame:
    """Grain: order of one segment level — the orders behind its figure of `metric` in `segment_metrics`
    (realised rows only, one order once): how many forecasts (or listings) it had, its value of the
    metric on the table's scale and, for a forecast metric, its mean error and absolute error (h);
    the largest value first. Their count is the table's `orders` and their mean its `figure`."""
    if metric not in SEGMENT_METRICS:
        raise ConfigError(f"unknown segment figure {metric!r}; use one of {', '.join(SEGMENT_METRICS)}")
    source, column, scale, _ = SEGMENT_METRICS[metric]
    if source == "forecast":
        rows, count, extra = scored_forecasts, "forecasts", ["error_h", "abs_error_h"]
    else:
        rows, count, extra = scored_listings if scored_listings is not None else pd.DataFrame(), "listings", []
        if len(rows):
            rows = rows.assign(prob_minus_outcome=rows["stuck_prob"] - rows["stuck_after"])
    columns = ["order_id", count, metric, *[c for c in extra if c != column]]
    if rows.empty or segment not in rows.columns:
        return pd.DataFrame(columns=columns)
    realised = rows.loc[~rows["estimated"].astype(bool)]
    values = list(dict.fromkeys([column, *extra]))
    per_order = _per_order(realised, values, [segment])
    per_order[count] = realised.groupby("order_id").size()
    chosen = per_order.loc[(per_order[segment].astype(str) == str(level)) & per_order[column].notna()]
    chosen = chosen.assign(**{metric: chosen[column] * scale}).rename_axis("order_id").reset_index()
    chosen = chosen.sort_values([metric, "order_id"], ascending=[False, True], kind="stable")
    return chosen[columns].astype({count: "int64"}).reset_index(drop=True)


def load_level_orders(
    segment: str,
    level: str,
    metric: str,
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    costs: CostAssumptions | None = None,
) -> pd.DataFrame:
    """The orders behind one row of `segment_table` (same as-of, window and costs): `level_orders` on the store."""
    at = accuracy.resolve_as_of(as_of, store_path)
    forecasts = accuracy.load_forecast_outcomes(store_path, as_of=at, since=since, costs=costs)
    listings = None
    if SEGMENT_METRICS.get(metric, ("forecast",))[0] == "listing":
        listings = accuracy.load_listing_outcomes(store_path, as_of=at, since=since)
    return level_orders(forecasts, listings, segment, level, metric)
