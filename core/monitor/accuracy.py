"""Forecast accuracy against actuals, and the triage list's precision and lead time.

A forecast (morning × open order) is *matured* once its order is delivered, or once its p90 has
passed without a delivery (a miss on the late side: the error so far is a lower bound). Immature
forecasts get an *estimate* from their own quantiles, conditioned on the order not being delivered
yet, and are kept apart (`estimated=True`). A listing is matured once the order got stuck after it
was listed or ended without getting stuck; immature listings are estimated by their calibrated
stuck probability. Every figure on the Forecast accuracy page comes from a function here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import domain, store
from core.config import StorePath
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.models.metrics import DEFAULT_TRIAGE_CAPACITY, forecast_costs

# The distribution an immature forecast is estimated from: a piecewise-linear quantile function
# through p10/p50/p90, with tails reaching one half-width beyond p10 (not below 0) and beyond p90.
_KNOT_PROBS = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
_GRID = 100  # probability points per immature forecast
_ESTIMATE_CHUNK = 20_000  # immature forecasts estimated at once (memory ≈ 20k × _GRID × 8 B per array)

FORECAST_METRICS: tuple[str, ...] = (
    "forecasts",
    "mae_h",
    "bias_h",
    "coverage_80_pct",
    "too_early_pct",
    "too_late_pct",
    "interval_width_h",
    "cost_per_forecast_eur",
    "optimistic_cost_per_forecast_eur",
    "conservative_cost_per_forecast_eur",
)


def resolve_as_of(as_of: datetime | date | str | None, store_path: StorePath = None) -> datetime:
    """The instant outcomes are judged at: a day means its end; default the last event in the store."""
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of) if ("T" in as_of or " " in as_of) else date.fromisoformat(as_of)
        except ValueError as exc:
            raise ConfigError(f"cannot read --as-of {as_of!r}; use YYYY-MM-DD") from exc
    if isinstance(as_of, datetime):
        return as_of
    if isinstance(as_of, date):
        # The day's last whole second: outcomes have always been judged there, and stored figures depend on it.
        return domain.end_of_day(as_of) - timedelta(seconds=1)
    with store.connect(store_path, read_only=True) as con:
        row = con.execute("select max(event_ts) from events").fetchone()
    if not row or row[0] is None:
        raise ConfigError("the store holds no events; build the demo or run the daily job first")
    return pd.Timestamp(row[0]).to_pydatetime()


def prepare_outcome_tables(con: duckdb.DuckDBPyConnection, as_of: datetime, *, listed_only: bool = False) -> None:
    """Temp tables acc_listings and acc_breaches (every stall breach by as_of; with `listed_only`,
    those of listed orders only: all a listing's outcome needs, and far cheaper at scale) on `con`."""
    stages = sorted(domain.STALL_LIMIT_HOURS)
    con.execute(store.load_sql("accuracy_listings"), {"as_of_date": as_of.date()})
    con.execute(
        store.load_sql("accuracy_breaches"),
        {
            "as_of": as_of,
            "terminal_stages": list(domain.TERMINAL),
            "stall_stages": stages,
            "stall_hours": [float(domain.STALL_LIMIT_HOURS[s]) for s in stages],
            "listed_only": listed_only,
        },
    )


def stuck_instants(store_path: StorePath = None, *, as_of: datetime | date | str | None = None) -> pd.DataFrame:
    """Grain: order that got stuck by as_of, with the first instant it did (`stuck_at`)."""
    at = resolve_as_of(as_of, store_path)
    with store.connect(store_path, read_only=True) as con:
        prepare_outcome_tables(con, at)
        return con.execute(
            "select order_id, min(breach_at) as stuck_at from acc_breaches group by order_id order by order_id"
        ).df()


def _interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp row by row: x (n, g), knots xp (n, k) increasing, values fp (n, k)."""
    out = np.full(x.shape, np.nan)
    out = np.where(x <= xp[:, :1], fp[:, :1], out)
    out = np.where(x >= xp[:, -1:], fp[:, -1:], out)
    for j in range(xp.shape[1] - 1):  # a handful of knots, not rows
        lo, hi = xp[:, j : j + 1], xp[:, j + 1 : j + 2]
        width = hi - lo
        share = np.divide(x - lo, width, out=np.zeros(np.broadcast_shapes(x.shape, width.shape)), where=width > 0)
        inside = (x >= lo) & (x < hi)
        out = np.where(inside, fp[:, j : j + 1] + share * (fp[:, j + 1 : j + 2] - fp[:, j : j + 1]), out)
    return out


def estimate_immature(
    p10_h: np.ndarray, p50_h: np.ndarray, p90_h: np.ndarray, elapsed_h: np.ndarray, costs: CostAssumptions
) -> pd.DataFrame:
    """Expected abs error, signed error, coverage, too early/late and cost of forecasts not matured yet.

    The remaining time follows the piecewise-linear quantile function through p10/p50/p90 (tails
    one half-width beyond), truncated to what is still possible: more than `elapsed_h`.
    """
    p10, p50, p90, elapsed = (np.asarray(a, dtype=np.float64) for a in (p10_h, p50_h, p90_h, elapsed_h))
    values = np.column_stack([np.maximum(p10 - (p50 - p10), 0.0), p10, p50, p90, p90 + (p90 - p50)])
    values = np.maximum.accumulate(values, axis=1)  # a crossed quantile pair stays monotone
    probs = np.broadcast_to(_KNOT_PROBS, values.shape)
    floor = _interp_rows(elapsed[:, None], values, probs)  # P(remaining <= elapsed)
    floor = np.minimum(floor, 1.0 - 1e-9)
    grid = (np.arange(_GRID) + 0.5) / _GRID
    u = floor + (1.0 - floor) * grid[None, :]
    remaining = np.maximum(_interp_rows(u, probs, values), elapsed[:, None])
    p50_col = p50[:, None]
    cost = forecast_costs(remaining, np.broadcast_to(p50_col, remaining.shape), costs)
    return pd.DataFrame(
        {
            "abs_error_h": np.abs(remaining - p50_col).mean(axis=1),
            "error_h": (p50_col - remaining).mean(axis=1),
            "covered": ((u >= 0.1) & (u <= 0.9)).mean(axis=1),
            "too_early": (u > 0.5).mean(axis=1),
            "too_late": (u < 0.5).mean(axis=1),
            "cost_eur": cost.mean(axis=1),
            "optimistic_cost_eur": np.where(remaining > p50_col, cost, 0.0).mean(axis=1),
        }
    )


def score_forecasts(forecasts: pd.DataFrame, as_of: datetime, costs: CostAssumptions | None = None) -> pd.DataFrame:
    """Per forecast: matured or not, and its realised (or, immature, estimated) error, coverage and cost.

    Columns added: elapsed_h, matured, overdue, estimated, actual_h (realised remaining hours; for an
    overdue forecast the hours so far, a lower bound), abs_error_h, error_h (p50 − actual: > 0 the ETA
    came after the delivery), covered, too_early (delivered after the p50 ETA), too_late, cost_eur
    and optimistic_cost_eur (the part of the cost from ETAs that came too early; the rest is conservative).
    Forecasts of orders cancelled by as_of have no delivery to judge and are dropped.
    """
    costs = costs or CostAssumptions()
    frame = forecasts.loc[~(forecasts["cancelled_at"].notna() & forecasts["delivered_at"].isna())].copy()
    frame = frame.reset_index(drop=True)
    at = pd.Timestamp(as_of)
    elapsed_h = (at - pd.to_datetime(frame["as_of_at"])).dt.total_seconds().to_numpy() / 3600.0
    delivered = frame["delivered_at"].notna().to_numpy()
    overdue = ~delivered & (elapsed_h > frame["p90_h"].to_numpy())
    matured = delivered | overdue
    actual_h = np.where(
        delivered,
        (pd.to_datetime(frame["delivered_at"]) - pd.to_datetime(frame["as_of_at"])).dt.total_seconds() / 3600.0,
        elapsed_h,
    )
    p10, p50, p90 = (frame[c].to_numpy(dtype=np.float64) for c in ("p10_h", "p50_h", "p90_h"))
    frame["elapsed_h"] = elapsed_h
    frame["matured"] = matured
    frame["overdue"] = overdue
    frame["estimated"] = ~matured
    frame["actual_h"] = np.where(matured, actual_h, np.nan)
    frame["abs_error_h"] = np.abs(actual_h - p50)
    frame["error_h"] = p50 - actual_h
    frame["covered"] = ((actual_h >= p10) & (actual_h <= p90)).astype(float)
    frame["too_early"] = (actual_h > p50).astype(float)
    frame["too_late"] = (actual_h < p50).astype(float)
    frame["cost_eur"] = forecast_costs(actual_h, p50, costs)
    frame["optimistic_cost_eur"] = np.where(actual_h > p50, frame["cost_eur"], 0.0)
    immature = np.flatnonzero(~matured)
    # In chunks: the estimate holds _GRID values per forecast in several arrays at once, over a GB
    # for a million-order store's open forecasts; row by row the figures are the same.
    for begin in range(0, len(immature), _ESTIMATE_CHUNK):
        rows = immature[begin : begin + _ESTIMATE_CHUNK]
        est = estimate_immature(p10[rows], p50[rows], p90[rows], elapsed_h[rows], costs)
        for column in est.columns:
            frame.loc[rows, column] = est[column].to_numpy()
    return frame


def load_forecast_outcomes(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    role: str = "champion",
    costs: CostAssumptions | None = None,
) -> pd.DataFrame:
    """Grain: forecast (morning × order) of one model role, scored against what happened by as_of."""
    at = resolve_as_of(as_of, store_path)
    forecasts = store.fetch_df(
        "accuracy_forecasts",
        {
            "as_of": at,
            "since": since,
            "role": role,
            "delivered_stage": "delivered",
            "cancelled_stage": domain.CANCELLED,
        },
        store_path,
    )
    return score_forecasts(forecasts, at, costs)


def summarise_forecasts(scored: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Accuracy figures per group and estimated flag (realised and estimated never mix).

    forecasts (count), mae_h, bias_h (mean p50 − actual; > 0 conservative), coverage_80_pct (share
    within p10..p90), too_early_pct (delivered after the p50 ETA: optimistic), too_late_pct,
    interval_width_h (mean p90 − p10), cost_per_forecast_eur (mean `forecast_costs`), split into its
    optimistic (ETA before the delivery) and conservative parts.
    """
    keys = [*by, "estimated"]
    if scored.empty:
        return pd.DataFrame(columns=[*keys, *FORECAST_METRICS])
    work = scored.assign(interval_width_h=scored["p90_h"] - scored["p10_h"])
    grouped = work.groupby(keys, sort=True, dropna=False)
    summary = grouped.agg(
        forecasts=("order_id", "size"),
        mae_h=("abs_error_h", "mean"),
        bias_h=("error_h", "mean"),
        coverage_80_pct=("covered", "mean"),
        too_early_pct=("too_early", "mean"),
        too_late_pct=("too_late", "mean"),
        interval_width_h=("interval_width_h", "mean"),
        cost_per_forecast_eur=("cost_eur", "mean"),
        optimistic_cost_per_forecast_eur=("optimistic_cost_eur", "mean"),
    ).reset_index()
    summary["conservative_cost_per_forecast_eur"] = (
        summary["cost_per_forecast_eur"] - summary["optimistic_cost_per_forecast_eur"]
    )
    for column in ("coverage_80_pct", "too_early_pct", "too_late_pct"):
        summary[column] = summary[column] * 100.0
    summary["forecasts"] = summary["forecasts"].astype("int64")
    return summary


def realised_row(summary: pd.DataFrame) -> dict[str, Any]:
    """The realised row of an overall summary (as summarise_forecasts/listings give it), or {}."""
    rows = summary.loc[~summary["estimated"].astype(bool)] if len(summary) else summary
    return rows.iloc[0].to_dict() if len(rows) else {}


def forecast_accuracy(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    role: str = "champion",
    costs: CostAssumptions | None = None,
) -> pd.DataFrame:
    """Grain: morning × estimated — MAE, bias, coverage, too early/late shares and cost, over time."""
    return summarise_forecasts(
        load_forecast_outcomes(store_path, as_of=as_of, since=since, role=role, costs=costs), by=["as_of_date"]
    )


def score_listings(listings: pd.DataFrame) -> pd.DataFrame:
    """Per listing: stuck_after (1 got stuck after it was listed, 0 ended without, else the stuck
    probability, estimated=True) and lead_time_h (first on the list → stuck, for those stuck)."""
    frame = listings.copy()
    got_stuck = frame["stuck_at"].notna()
    ended = frame["ended_at"].notna()
    frame["estimated"] = ~got_stuck & ~ended
    frame["stuck_after"] = np.where(got_stuck, 1.0, np.where(ended, 0.0, frame["stuck_prob"].astype(float)))
    lead = (pd.to_datetime(frame["stuck_at"]) - pd.to_datetime(frame["first_listed_at"])).dt.total_seconds()
    frame["lead_time_h"] = lead / 3600.0
    return frame


def load_listing_outcomes(
    store_path: StorePath = None, *, as_of: datetime | date | str | None = None, since: date | None = None
) -> pd.DataFrame:
    """Grain: listing (morning × order on the would-be list, shown or held out) with its outcome by as_of."""
    at = resolve_as_of(as_of, store_path)
    with store.connect(store_path, read_only=True) as con:
        prepare_outcome_tables(con, at, listed_only=True)
        listings = con.execute(
            store.load_sql("accuracy_listing_outcomes"), {"as_of": at, "terminal_stages": list(domain.TERMINAL)}
        ).df()
    if since is not None:
        listings = listings.loc[pd.to_datetime(listings["as_of_date"]).dt.date >= since]
    return score_listings(listings.reset_index(drop=True))


def summarise_listings(scored: pd.DataFrame, k: int = DEFAULT_TRIAGE_CAPACITY, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per group and estimated flag: listed, precision_at_k_pct (share of the top k by rank, shown
    and held out alike, that got stuck after being listed) and lead_time_h (mean, of those stuck)."""
    keys = [*by, "estimated"]
    columns = [*keys, "listed", "top_k", "precision_at_k_pct", "stuck_after", "lead_time_h"]
    if scored.empty:
        return pd.DataFrame(columns=columns)
    work = scored.assign(
        top_k=(scored["rank"] <= k).astype("int64"),
        stuck_top_k=np.where(scored["rank"] <= k, scored["stuck_after"], np.nan),
        lead_hit_h=np.where(scored["stuck_after"] == 1.0, scored["lead_time_h"], np.nan),
    )
    summary = (
        work.groupby(keys, sort=True, dropna=False)
        .agg(
            listed=("order_id", "size"),
            top_k=("top_k", "sum"),
            precision_at_k_pct=("stuck_top_k", "mean"),
            stuck_after=("stuck_after", "sum"),
            lead_time_h=("lead_hit_h", "mean"),
        )
        .reset_index()
    )
    summary["precision_at_k_pct"] = summary["precision_at_k_pct"] * 100.0
    summary["listed"] = summary["listed"].astype("int64")
    return summary[columns]


def triage_accuracy(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    k: int = DEFAULT_TRIAGE_CAPACITY,
) -> pd.DataFrame:
    """Grain: morning × estimated — precision@k of the list and its lead time (hours before stuck)."""
    if k < 1:
        raise ConfigError(f"k must be at least 1 (orders the triage team works a day), got {k}")
    return summarise_listings(load_listing_outcomes(store_path, as_of=as_of, since=since), k=k, by=["as_of_date"])


# A morning is matured once this share of its forecast orders has been delivered or cancelled: the
# last mornings of any store score only the quick deliveries and flatter every model.
MATURED_SHARE = 0.98


def matured_mornings(forecasts: pd.DataFrame, share: float = MATURED_SHARE) -> list[date]:
    """The mornings (as_of_date) at least `share` of whose forecast orders have been delivered or
    cancelled. `forecasts` has as_of_date, delivered_at and cancelled_at per forecast."""
    if forecasts.empty:
        return []
    ended = forecasts["delivered_at"].notna() | forecasts["cancelled_at"].notna()
    by_morning = ended.groupby(pd.to_datetime(forecasts["as_of_date"]).dt.date).mean()
    return sorted(by_morning.index[by_morning >= share])


def accuracy_overview(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    k: int = DEFAULT_TRIAGE_CAPACITY,
    costs: CostAssumptions | None = None,
) -> dict[str, object]:
    """Headline figures over the window, realised and estimated apart (the CLI's `accuracy --json`)."""
    at = resolve_as_of(as_of, store_path)
    outcomes = load_forecast_outcomes(store_path, as_of=at, since=since, costs=costs)
    forecasts = summarise_forecasts(outcomes)
    listings = summarise_listings(load_listing_outcomes(store_path, as_of=at, since=since), k=k)

    def records(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for row in frame.to_dict("records"):
            label = "estimated" if row.pop("estimated") else "realised"
            out[label] = {
                key: None if pd.isna(v) else int(v) if isinstance(v, int | np.integer) else float(v)
                for key, v in row.items()
            }
        return out

    by_carrier = summarise_forecasts(outcomes, by=["carrier"])
    return {
        "as_of": at.isoformat(),
        "since": since.isoformat() if since else None,
        "forecast": records(forecasts),
        "triage": records(listings),
        "k": k,
        "forecast_by_carrier": {
            str(c): records(g.drop(columns="carrier")) for c, g in by_carrier.groupby("carrier", sort=True)
        },
        "matured_mornings": [d.isoformat() for d in matured_mornings(outcomes)],
        "matured_share": MATURED_SHARE,
    }
