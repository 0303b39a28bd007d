"""The benefit ledger: what the product realised per ISO week, in counts and in money.

Two comparisons, kept apart:
- **against the baseline**: each live week's rates (contacts per 1,000 orders, SLA breach share, days
  a first promise lay after the delivery) against the same rates pooled over the weeks before
  go-live (the first model ETA shown or triage list drawn; the first week of history only warms up),
  valued with the cost assumptions;
- **treated against held out**: orders on the would-be list that were shown to triage against those
  held out (the arm an order was first listed in), on getting stuck after being listed, contacts and
  SLA breaches, with bootstrap 95% confidence intervals (orders resampled within each arm, fixed seed).
  Held-out orders are a random share of the list, so the difference is the triage effect.

Money uses the current assumptions (the benefits owner re-values history by changing them), or those
as they stood at `assumptions_at`; targets sit beside each figure.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from core import domain, store
from core.config import StorePath
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.monitor import assumptions, benefit_figures
from core.monitor.accuracy import prepare_outcome_tables, resolve_as_of
from core.monitor.assumptions import LOWER_IS_BETTER, BenefitTargets
from core.monitor.triage_effect import ALL_WEEKS, compare_holdout, iso_week

# metric -> unit, in the order the ledger lists them
LEDGER_METRICS: dict[str, str] = {
    "orders": "orders",
    "contacts_per_1000_orders": "contacts per 1,000 orders placed",
    "sla_breaches": "orders",
    "sla_breach_pct": "% of deliveries",
    "extra_promised_days": "days per delivery",
    "stuck_orders": "orders",
    "stuck_caught_early": "orders",
    "stuck_caught_early_pct": "% of stuck orders",
    "lead_time_h": "hours per order caught early",
    "lead_time_total_h": "hours",
    "triage_value_eur": "EUR",
    "total_value_eur": "EUR",
}


def go_live_date(store_path: StorePath = None) -> date | None:
    """The first day a model ETA was shown or a triage list drawn; None before go-live."""
    value = store.fetch_df("benefits_go_live", path=store_path)["go_live_date"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _weekly_activity(con: duckdb.DuckDBPyConnection, at: datetime) -> pd.DataFrame:
    return con.execute(store.load_sql("benefits_weekly"), {"as_of": at, "delivered_stage": "delivered"}).df()


def _holdout_orders(con: duckdb.DuckDBPyConnection, at: datetime) -> pd.DataFrame:
    return con.execute(
        store.load_sql("benefits_holdout_orders"),
        {"as_of": at, "delivered_stage": "delivered", "cancelled_stage": domain.CANCELLED},
    ).df()


def weekly_activity(store_path: StorePath = None, *, as_of: datetime | date | str | None = None) -> pd.DataFrame:
    """Grain: ISO week — orders, contacts, deliveries, SLA breaches, promise days, stuck and caught early."""
    at = resolve_as_of(as_of, store_path)
    with store.connect(store_path, read_only=True) as con:
        prepare_outcome_tables(con, at)
        return _weekly_activity(con, at)


def holdout_orders(store_path: StorePath = None, *, as_of: datetime | date | str | None = None) -> pd.DataFrame:
    """Grain: order ever on a would-be list — its arm (held_out) and outcomes after first listed."""
    at = resolve_as_of(as_of, store_path)
    with store.connect(store_path, read_only=True) as con:
        prepare_outcome_tables(con, at, listed_only=True)
        return _holdout_orders(con, at)


def _weekly_figures(activity: pd.DataFrame) -> pd.DataFrame:
    """The ledger's figures of each row of weekly activity (a week, or pooled weeks)."""
    a = activity
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "orders": a["orders"].astype(float),
                "contacts_per_1000_orders": a["contacts"] / a["orders"].replace(0, np.nan) * 1000.0,
                "sla_breaches": a["sla_breaches"].astype(float),
                "sla_breach_pct": a["sla_breaches"] / a["deliveries_with_sla"].replace(0, np.nan) * 100.0,
                "extra_promised_days": a["extra_promised_days_total"] / a["deliveries_with_promise"].replace(0, np.nan),
                "stuck_orders": a["stuck_orders"].astype(float),
                "stuck_caught_early": a["stuck_caught_early"].astype(float),
                "stuck_caught_early_pct": a["stuck_caught_early"] / a["stuck_orders"].replace(0, np.nan) * 100.0,
                "lead_time_h": a["lead_time_total_h"] / a["stuck_caught_early"].replace(0, np.nan),
                "lead_time_total_h": a["lead_time_total_h"].astype(float),
            },
            index=a.index,
        )


LEDGER_COLUMNS: tuple[str, ...] = (
    "week_start",
    "iso_week",
    "period",
    "metric",
    "unit",
    "value",
    "baseline_value",
    "change_vs_baseline",
    "value_eur",
    "value_ci_low_eur",
    "value_ci_high_eur",
    "target",
    "meets_target",
)


def build_ledger(
    activity: pd.DataFrame,
    go_live: date | None,
    costs: CostAssumptions | None = None,
    targets: BenefitTargets | None = None,
    holdout: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Grain: ISO week × metric — value, pooled baseline, change, money value, CI and target.

    Money against the baseline: contacts (baseline − week rate) × orders / 1,000 × contact cost; SLA
    (baseline − week share) × deliveries × breach cost; promise days (baseline − week) × deliveries
    × cost per extra promised day. triage_value_eur is the holdout comparison of the week (orders
    first listed in it) with its CI; total_value_eur adds them up, its CI from the triage part only.
    Stuck figures count by the week an order first got stuck: caught early = on a shown list before
    that instant; a stall triage prevented never counts here (the holdout comparison measures it).
    Baseline weeks carry their figures and change but no money. The first week of history is
    `warm_up` (out of the baseline) when there are other pre-model weeks.
    """
    costs = costs or CostAssumptions()
    targets = targets or BenefitTargets()
    if activity.empty:
        return pd.DataFrame(columns=list(LEDGER_COLUMNS))
    activity = activity.sort_values("week_start").reset_index(drop=True)
    week_start = pd.to_datetime(activity["week_start"])
    is_live, is_warm_up = _periods(activity, week_start, go_live)
    period = np.where(is_live, "live", np.where(is_warm_up, "warm_up", "baseline"))
    figures = _weekly_figures(activity)
    base_rows = activity.loc[~is_live & ~is_warm_up]
    baseline = (
        _weekly_figures(base_rows.drop(columns="week_start").sum().to_frame().T).iloc[0]
        if len(base_rows)
        else pd.Series(np.nan, index=figures.columns)
    )
    money = _money_against_baseline(activity, figures, baseline, costs).where(is_live, np.nan, axis=0)
    triage = _triage_value(holdout, week_start, activity.index).where(is_live, np.nan, axis=0)
    figures["triage_value_eur"] = triage["value_eur"]
    baseline_money = money.sum(axis=1, min_count=1)
    figures["total_value_eur"] = pd.concat([baseline_money, triage["value_eur"]], axis=1).sum(axis=1, min_count=1)
    baseline = pd.concat([baseline, pd.Series({"triage_value_eur": np.nan, "total_value_eur": np.nan})])
    frame = pd.DataFrame({"week_start": week_start, "iso_week": iso_week(week_start), "period": period})
    rows = [
        _ledger_rows(frame, metric, unit, figures, baseline, money, triage, baseline_money, asdict(targets).get(metric))
        for metric, unit in LEDGER_METRICS.items()
    ]
    ledger = pd.concat(rows, ignore_index=True)
    return ledger.sort_values(["week_start"], kind="stable", ignore_index=True)[list(LEDGER_COLUMNS)]


def _ledger_rows(
    weeks: pd.DataFrame,
    metric: str,
    unit: str,
    figures: pd.DataFrame,
    baseline: pd.Series,
    money: pd.DataFrame,
    triage: pd.DataFrame,
    baseline_money: pd.Series,
    target: float | None,
) -> pd.DataFrame:
    """One metric's ledger rows, one per week."""
    value = figures[metric]
    value_eur, lo, hi = _metric_money(metric, value, money, triage, baseline_money)
    return weeks.assign(
        metric=metric,
        unit=unit,
        value=value.astype(float).to_numpy(),
        baseline_value=float(baseline[metric]),
        change_vs_baseline=(value - float(baseline[metric])).to_numpy(),
        value_eur=value_eur.astype(float).to_numpy(),
        value_ci_low_eur=lo.astype(float).to_numpy(),
        value_ci_high_eur=hi.astype(float).to_numpy(),
        target=np.nan if target is None else float(target),
        meets_target=np.asarray(_meets_target(metric, value, target)),
    )


def _periods(activity: pd.DataFrame, week_start: pd.Series, go_live: date | None) -> tuple[pd.Series, pd.Series]:
    """(is_live, is_warm_up) per week: live from the week of go-live on; the first week of history
    warms up when there are other pre-model weeks."""
    live_from = pd.Timestamp(go_live) - pd.Timedelta(days=pd.Timestamp(go_live).weekday()) if go_live else None
    is_live = week_start >= live_from if live_from is not None else pd.Series(False, index=activity.index)
    # The first week of history misses the journeys that began before it (their contacts and
    # deliveries, or the orders themselves), so it only warms up; it stays out of the baseline
    # whenever another pre-model week exists.
    is_warm_up = pd.Series(False, index=activity.index)
    if (~is_live).sum() >= 2:
        is_warm_up.iloc[0] = True
    return is_live, is_warm_up


def _money_against_baseline(
    activity: pd.DataFrame, figures: pd.DataFrame, baseline: pd.Series, costs: CostAssumptions
) -> pd.DataFrame:
    """Each week's money against the baseline rates: contacts, SLA breaches, promise days (NaN elsewhere)."""
    money = pd.DataFrame(np.nan, index=activity.index, columns=figures.columns)
    money["contacts_per_1000_orders"] = (
        (baseline["contacts_per_1000_orders"] - figures["contacts_per_1000_orders"])
        / 1000.0
        * activity["orders"]
        * costs.contact_cost
    )
    money["sla_breach_pct"] = (
        (baseline["sla_breach_pct"] - figures["sla_breach_pct"])
        / 100.0
        * activity["deliveries_with_sla"]
        * costs.sla_breach_cost
    )
    money["extra_promised_days"] = (
        (baseline["extra_promised_days"] - figures["extra_promised_days"])
        * activity["deliveries_with_promise"]
        * costs.early_promise_cost_per_day
    )
    return money


def _triage_value(holdout: pd.DataFrame | None, week_start: pd.Series, index: pd.Index) -> pd.DataFrame:
    """Each week's triage value with its CI, from the holdout comparison of the orders first listed in it."""
    triage = pd.DataFrame(index=index, columns=["value_eur", "value_ci_low_eur", "value_ci_high_eur"], dtype=float)
    if holdout is not None and not holdout.empty:
        per_week = holdout.loc[(holdout["metric"] == "triage_value_eur") & (holdout["iso_week"] != ALL_WEEKS)]
        per_week = per_week.set_index(pd.to_datetime(per_week["week_start"]))
        triage = per_week.reindex(week_start)[["value_eur", "value_ci_low_eur", "value_ci_high_eur"]]
        triage.index = index
    return triage


def _metric_money(
    metric: str, value: pd.Series, money: pd.DataFrame, triage: pd.DataFrame, baseline_money: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A metric's money value and its CI bounds per week."""
    if metric == "triage_value_eur":
        return triage["value_eur"], triage["value_ci_low_eur"], triage["value_ci_high_eur"]
    if metric == "total_value_eur":
        lo = baseline_money.fillna(0.0) + triage["value_ci_low_eur"]
        hi = baseline_money.fillna(0.0) + triage["value_ci_high_eur"]
        return value, lo, hi
    value_eur = money[metric] if metric in money else pd.Series(np.nan, index=value.index)
    nothing = pd.Series(np.nan, index=value.index)
    return value_eur, nothing, nothing


def _meets_target(metric: str, value: pd.Series, target: float | None) -> pd.Series:
    """Whether each week's value meets the target (NA without a target or a value)."""
    if target is None:
        return pd.Series(pd.NA, index=value.index, dtype="boolean")
    meets = (value <= target) if metric in LOWER_IS_BETTER else (value >= target)
    return meets.astype("boolean").where(value.notna(), pd.NA)


def _compute(
    store_path: StorePath,
    as_of: datetime | date | str | None,
    weeks: int | None,
    costs: CostAssumptions | None,
    targets: BenefitTargets | None,
    assumptions_at: datetime | date | str | None,
    n_boot: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, CostAssumptions, BenefitTargets, datetime]:
    if weeks is not None and weeks < 1:
        raise ConfigError(f"--weeks must be at least 1, got {weeks}")
    at = resolve_as_of(as_of, store_path)
    costs = costs or assumptions.load_assumptions(store_path, at=assumptions_at)
    targets = targets or assumptions.load_targets(store_path, at=assumptions_at)
    # One connection, the outcome tables built once for both reads (they dominate at scale).
    with store.connect(store_path, read_only=True) as con:
        prepare_outcome_tables(con, at)
        orders, activity = _holdout_orders(con, at), _weekly_activity(con, at)
    holdout = compare_holdout(orders, costs, n_boot=n_boot, seed=seed)
    ledger = build_ledger(activity, go_live_date(store_path), costs, targets, holdout)
    if weeks is not None and not ledger.empty:
        keep = sorted(ledger["week_start"].unique())[-weeks:]
        ledger = ledger.loc[ledger["week_start"].isin(keep)].reset_index(drop=True)
        holdout = holdout.loc[holdout["week_start"].isna() | holdout["week_start"].isin(keep)].reset_index(drop=True)
    return ledger, holdout, costs, targets, at


def benefit_ledger(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    weeks: int | None = None,
    costs: CostAssumptions | None = None,
    targets: BenefitTargets | None = None,
    assumptions_at: datetime | date | str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Grain: ISO week × metric — the benefit ledger of the store (the last `weeks` weeks if given)."""
    return _compute(store_path, as_of, weeks, costs, targets, assumptions_at, n_boot, seed)[0]


def ledger_and_holdout(
    store_path: StorePath = None, *, as_of: datetime | date | str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benefit ledger and the holdout comparison together (as `benefit_ledger` and
    `holdout_comparison` with their defaults), reading the store once."""
    ledger, holdout, *_ = _compute(store_path, as_of, None, None, None, None, 1000, 0)
    return ledger, holdout


def holdout_comparison(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    costs: CostAssumptions | None = None,
    assumptions_at: datetime | date | str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Grain: week of first listing (and 'all') × metric — treated vs held out of the store, with CIs."""
    at = resolve_as_of(as_of, store_path)
    costs = costs or assumptions.load_assumptions(store_path, at=assumptions_at)
    return compare_holdout(holdout_orders(store_path, as_of=at), costs, n_boot=n_boot, seed=seed)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, object] = {}
        for key, value in row.items():
            if value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
                clean[key] = None
            elif isinstance(value, pd.Timestamp):
                clean[key] = value.date().isoformat()
            elif isinstance(value, np.generic):
                clean[key] = value.item()
            else:
                clean[key] = value
        out.append(clean)
    return out


def benefits_report(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    weeks: int | None = None,
    assumptions_at: datetime | date | str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """Everything `benefits --json` prints: the headline money and each live week's money with their 95% intervals
    and significance (`benefit_figures`, as the page shows them), the ledger by week, the holdout comparison,
    assumptions, targets."""
    ledger, holdout, costs, targets, at = _compute(store_path, as_of, weeks, None, None, assumptions_at, n_boot, seed)
    by_week: list[dict[str, object]] = []
    for (week, iso, period), part in ledger.groupby(["week_start", "iso_week", "period"], sort=True):
        by_week.append(
            {
                "week_start": pd.Timestamp(week).date().isoformat(),
                "iso_week": iso,
                "period": period,
                "figures": _records(part.drop(columns=["week_start", "iso_week", "period"])),
            }
        )
    live = go_live_date(store_path)
    return {
        "as_of": at.isoformat(),
        "go_live_date": live.isoformat() if live else None,
        "assumptions": asdict(costs),
        "targets": asdict(targets),
        "headline": {name: f.to_dict() for name, f in benefit_figures.headline_figures(ledger, holdout).items()},
        "money_by_week": _records(benefit_figures.weekly_money(ledger)),
        "ledger": by_week,
        "holdout": _records(holdout),
        "bootstrap": {"resamples": n_boot, "seed": seed, "confidence": 0.95, "unit": "order"},
    }
