"""Live interval calibration: each daily run corrects the served p10/p50/p90 by what the model's own
recent forecasts got wrong, per segment (carrier) where there is enough data.

For each forecast of the last `window_days` mornings made by a model version, and each quantile q,
the residual is log(1 + actual remaining hours) − log(1 + the model's raw q forecast): errors grow
with the time still ahead, so a correction is a factor on 1 + hours (an order out for delivery is
moved by minutes, one still in the warehouse by hours; on the 100-day demo and three drift worlds
this beat hours added to every bound on MAE and on coverage). Orders still open are not
dropped — the quick deliveries would then be all that is seen, and every correction would come out
short — but counted as *not yet delivered*: their residual is right-censored at the hours elapsed so
far. The correction for q is the q-quantile of those residuals under the Kaplan–Meier estimate, so
that a share q of deliveries lands before the corrected bound. A rolling window of recent mornings
re-estimates the corrections every day, which keeps long-run coverage under a shift (the
split-conformal update on a moving window). Each bound's level adapts too (`bound_levels`: adaptive
conformal inference, Gibbs & Candès 2021, over the window): while delays keep rising, a window of
matured forecasts trails them, and the bounds as served miss more often than their share.

Inside each segment value the correction is refined per (current stage, warehouse) of the order
when forecast: where it is says how much of the remaining time is the new carrier's slow transit
and how much a warehouse's queue. Replayed on the served forecasts of the 100-day demo and of the
new-carrier, warehouse-outage and demand-surge worlds, it lowered the live MAE in all four (demo
19.6 → 19.3 h over its matured peak-season mornings, with a 10-morning window; outage 33.9 → 32.0 h),
where a refinement by stage alone made the outage worse.

A segment with few forecasts is shrunk towards the overall correction (a stage within a carrier
towards that carrier's), and every correction is capped: a thin segment once estimated +135 h.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

QUANTILES: tuple[tuple[str, float], ...] = (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))
OVERALL = "*"
# Joins a segment value and a value within it into the key of a nested correction ("quickhaul / in_transit").
NESTED = " / "
# The factor each raw bound's (1 + hours) is multiplied by.
CORRECTION_COLUMNS: tuple[str, ...] = tuple(f"scale_{name}" for name, _ in QUANTILES)
# The quantile level each tail's correction was estimated at (`bound_levels`), stored beside the factors.
LEVEL_COLUMNS: tuple[str, ...] = ("level_p10", "level_p90")


@dataclass(frozen=True)
class CalibrationSettings:
    """How the daily interval correction is estimated."""

    window_days: int = 10  # mornings of served forecasts the correction learns from
    segment: str = "carrier"  # corrections per value of this order attribute (and overall)
    within: tuple[str, ...] = ("current_stage", "warehouse")  # refined per values of these within a segment value
    min_forecasts: int = 50  # a segment with fewer forecasts uses the overall correction
    shrink_forecasts: int = 200  # weight n / (n + this) on a segment's own estimate
    cap_factor: float = 4.0  # no correction scales a bound's 1 + hours by more than this, or less than 1/this
    # Adaptive levels (see `bound_levels`): each tail's level moves by this times its miss rate's
    # distance from its share on the served bounds that have come due; 0 keeps 10% and 90%.
    level_gain: float = 0.5
    level_range: tuple[float, float] = (0.02, 0.2)  # the lower tail's level stays in it (the upper's mirrors it)


def censored_quantile(residual: np.ndarray, censored: np.ndarray, q: float) -> float:
    """The q-quantile of residuals of which some are only known to exceed their value (right-censored),
    by the Kaplan–Meier estimate. When censoring hides the quantile (the curve never reaches q), the
    largest value seen is returned: a lower bound."""
    residual = np.asarray(residual, dtype=np.float64)
    censored = np.asarray(censored, dtype=bool)
    if residual.size == 0:
        return float("nan")
    # At tied values events come before censorings (an order delivered at t is not at risk after t).
    order = np.lexsort((censored, residual))
    values, is_censored = residual[order], censored[order]
    at_risk = residual.size - np.arange(residual.size)
    survival = np.cumprod(np.where(is_censored, 1.0, 1.0 - 1.0 / at_risk))
    reached = np.flatnonzero(~is_censored & (1.0 - survival >= q - 1e-12))
    return float(values[reached[0]]) if reached.size else float(values[-1])


def residual_frame(forecasts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per forecast: raw quantiles, hours known so far, delivered or not (cancelled orders dropped)."""
    frame = forecasts.loc[~(forecasts["cancelled_at"].notna() & forecasts["delivered_at"].isna())]
    made_at = pd.to_datetime(frame["as_of_at"])
    delivered = frame["delivered_at"].notna().to_numpy()
    known_h = np.where(
        delivered,
        (pd.to_datetime(frame["delivered_at"]) - made_at).dt.total_seconds().to_numpy() / 3600.0,
        (as_of - made_at).dt.total_seconds().to_numpy() / 3600.0,
    )
    return frame.assign(known_h=known_h, delivered=delivered)


def _log1p_h(hours: object) -> np.ndarray:
    return np.log1p(np.clip(np.asarray(hours, dtype=np.float64), 0.0, None))


def _log_corrections(rows: pd.DataFrame, levels: Sequence[float]) -> dict[str, float]:
    """Per bound, the censored quantile (at its level) of log(1 + known hours) − log(1 + raw bound)."""
    censored = ~rows["delivered"].to_numpy()
    known = _log1p_h(rows["known_h"])
    return {
        column: censored_quantile(known - _log1p_h(rows[f"{name}_h"]), censored, q)
        for (name, _), q, column in zip(QUANTILES, levels, CORRECTION_COLUMNS, strict=True)
    }


def bound_levels(rows: pd.DataFrame, as_of: pd.Timestamp, settings: CalibrationSettings) -> tuple[float, ...]:
    """The quantile levels the p10, p50 and p90 corrections are estimated at: 10%, 50% and 90%, with
    each bound's level moved by how often the bounds as served missed (adaptive conformal inference,
    Gibbs & Candès 2021, over the window instead of one step at a time). A served p10 is *due* once
    its instant has passed (`as_of_at` + p10 <= as_of) and missed if the order was delivered before
    it; a served p90 is due likewise and missed if the order was not delivered by it. With a lower
    miss rate m, the lower level is 10% − gain × (m − 10%), clipped to `level_range`; the upper one
    mirrors it. A tail with fewer than `min_forecasts` due bounds, or forecasts without their served
    bounds (`served_p10_h`, `served_p90_h`), keeps its share. On the new-carrier world of the tests
    80% coverage went 77.3% → 80.2% (seed 3) and 73.6% → 76.8% (seed 5); docs/adaptive-loop.md §3."""
    low_share, high_share = QUANTILES[0][1], QUANTILES[-1][1]
    levels = [q for _, q in QUANTILES]
    if settings.level_gain == 0 or not {"served_p10_h", "served_p90_h"} <= set(rows.columns):
        return tuple(levels)
    made = pd.to_datetime(rows["as_of_at"])
    delivered = pd.to_datetime(rows["delivered_at"])

    def moved(column: str, share: float, early: bool) -> float | None:
        """The tail's new share, or None with too few due bounds. A comparison with NaT (not
        delivered) is False: neither early nor on time."""
        due_at = made + pd.to_timedelta(rows[column].astype(float), unit="h")
        due = (due_at <= as_of).to_numpy()
        if due.sum() < settings.min_forecasts:
            return None
        missed = (delivered < due_at) if early else ~(delivered <= due_at)
        return float(
            np.clip(share - settings.level_gain * (missed.to_numpy()[due].mean() - share), *settings.level_range)
        )

    lower = moved("served_p10_h", low_share, early=True)
    upper = moved("served_p90_h", 1.0 - high_share, early=False)
    if lower is not None:
        levels[0] = lower
    if upper is not None:
        levels[-1] = 1.0 - upper
    return tuple(levels)


def estimate_corrections(
    forecasts: pd.DataFrame, as_of: pd.Timestamp, settings: CalibrationSettings | None = None
) -> pd.DataFrame:
    """One row per segment value, per (segment value, value within it) and `OVERALL`: the attribute
    (`segment`), the value, forecasts, delivered and the factor on 1 + hours of the raw p10/p50/p90.
    `forecasts` holds one model version's raw quantiles of the window's mornings with `as_of_at`,
    `delivered_at`, `cancelled_at`, the segment column and the within column, and the bounds as
    served (`served_p10_h`, `served_p90_h`) that set the levels the bounds are estimated at; those
    levels (one pair for the whole window) are in `LEVEL_COLUMNS` of every row."""
    settings = settings or CalibrationSettings()
    columns = ["segment", "value", "forecasts", "delivered", *CORRECTION_COLUMNS, *LEVEL_COLUMNS]
    rows = residual_frame(forecasts, as_of)
    if len(rows) < settings.min_forecasts:
        return pd.DataFrame(columns=columns)
    levels = bound_levels(rows, as_of, settings)
    overall = _log_corrections(rows, levels)
    records = [_record(settings.segment, OVERALL, rows, overall)]
    nested_segment = NESTED.join((settings.segment, *settings.within))
    for value, group in rows.groupby(settings.segment, sort=True, dropna=True):
        own = _shrunk(group, overall, levels, settings)
        records.append(_record(settings.segment, str(value), group, own))
        if not settings.within:
            continue
        for inner, cell in group.groupby(list(settings.within), sort=True, dropna=True):
            key = NESTED.join(str(v) for v in (value, *inner))
            records.append(_record(nested_segment, key, cell, _shrunk(cell, own, levels, settings)))
    table = pd.DataFrame(records, columns=columns)
    cap = np.log(settings.cap_factor)
    table[list(CORRECTION_COLUMNS)] = np.exp(table[list(CORRECTION_COLUMNS)].astype(float).clip(-cap, cap))
    table[list(LEVEL_COLUMNS)] = levels[0], levels[-1]
    return table


def _shrunk(
    rows: pd.DataFrame, parent: dict[str, float], levels: Sequence[float], settings: CalibrationSettings
) -> dict[str, float]:
    """The rows' own log corrections, weighted n / (n + shrink) against the parent's; the parent's alone
    when they are too few."""
    n = len(rows)
    if n < settings.min_forecasts:
        return parent
    own, weight = _log_corrections(rows, levels), n / (n + settings.shrink_forecasts)
    return {k: weight * own[k] + (1.0 - weight) * parent[k] for k in CORRECTION_COLUMNS}


def _record(segment: str, value: str, rows: pd.DataFrame, corrections: dict[str, float]) -> dict[str, object]:
    return {
        "segment": segment,
        "value": value,
        "forecasts": len(rows),
        "delivered": int(rows["delivered"].sum()),
        **corrections,
    }


def apply_corrections(
    scores: pd.DataFrame,
    segment: Sequence[object],
    corrections: pd.DataFrame,
    within: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Calibrated p10/p50/p90 (same index and other columns): each row gets the factor of its values
    of the `within` columns inside its segment value, else of its segment value, else the overall
    one, else none; the bounds stay ordered and non-negative."""
    out = scores.copy()
    if corrections.empty:
        return out
    table = corrections.set_index("value")
    keys = pd.Series(np.asarray(segment, dtype=object), index=scores.index).astype(str)
    nested = None
    if within is not None and len(within.columns):
        nested = keys
        for column in within.columns:
            nested = nested + NESTED + pd.Series(within[column].to_numpy(dtype=object), index=scores.index).astype(str)
    fallback = table.loc[OVERALL] if OVERALL in table.index else None
    hours = []
    for (name, _), column in zip(QUANTILES, CORRECTION_COLUMNS, strict=True):
        factor = keys.map(table[column]).astype(float)
        if nested is not None:
            factor = nested.map(table[column]).astype(float).fillna(factor)
        if fallback is not None:
            factor = factor.fillna(float(fallback[column]))
        raw = np.clip(scores[f"{name}_h"].to_numpy(dtype=np.float64), 0.0, None)
        hours.append((1.0 + raw) * factor.fillna(1.0).to_numpy() - 1.0)
    stacked = np.clip(np.sort(np.column_stack(hours), axis=1), 0.0, None)
    for i, (name, _) in enumerate(QUANTILES):
        out[f"{name}_h"] = stacked[:, i]
    return out
