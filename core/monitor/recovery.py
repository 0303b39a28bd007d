"""Did the loop recover? Live accuracy of the served forecasts over *matured mornings*, beside a
model refit in hindsight on the same forecasts.

A morning is matured once nearly all of its forecast orders have ended (`MATURED_SHARE`): the last
mornings of any store score only the quick deliveries and flatter every policy. The hindsight refit
is the model factory's own deployed fit trained at the end of the store, when every outcome of the
judged mornings is known, and asked the same questions (the same orders at the same instants): the
yardstick for "how good could we have been", since most of the distance to a pre-drift backtest is
a harder regime, not a stale model. It is cross-fitted by order, so that it knows the regime but not
the answers: no forecast comes from a refit that learnt that order's own outcome. The in-sample
refit is reported beside it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from core import features
from core.config import StorePath
from core.models import evaluate, training, training_data
from core.monitor import accuracy


def live_figures(scored: pd.DataFrame) -> dict[str, Any]:
    """MAE, bias, 80% coverage and share delivered after the p50, over matured scored forecasts."""
    if scored.empty:
        return {"forecasts": 0}
    actual = scored["actual_h"].to_numpy(dtype=np.float64)
    p50 = scored["p50_h"].to_numpy(dtype=np.float64)
    return {
        "forecasts": len(scored),
        "mae_h": float(np.abs(actual - p50).mean()),
        "bias_h": float((p50 - actual).mean()),
        "coverage_80_pct": float(scored["covered"].mean() * 100.0),
        "after_p50_pct": float(scored["too_early"].mean() * 100.0),
    }


def matured_forecasts(
    store_path: StorePath = None,
    *,
    as_of: datetime | date | str | None = None,
    since: date | None = None,
    share: float = accuracy.MATURED_SHARE,
) -> tuple[pd.DataFrame, list[date]]:
    """The champion's scored forecasts (see accuracy.score_forecasts) of the matured mornings since
    `since`, matured rows only, and those mornings."""
    scored = accuracy.load_forecast_outcomes(store_path, as_of=as_of, since=since)
    mornings = accuracy.matured_mornings(scored, share)
    day = pd.to_datetime(scored["as_of_date"]).dt.date
    rows = scored[day.isin(mornings) & scored["matured"]].reset_index(drop=True)
    return rows, mornings


def by_segment(rows: pd.DataFrame, column: str = "carrier") -> dict[str, dict[str, Any]]:
    """`live_figures` per value of an order attribute."""
    return {str(value): live_figures(group) for value, group in rows.groupby(column, sort=True)}


# The hindsight refit is cross-fitted over this many groups of orders (see `hindsight_forecasts`).
HINDSIGHT_FOLDS = 5


def order_folds(order_ids: Sequence[object], folds: int) -> np.ndarray:
    """Each order's group, 0 … folds − 1, from a hash of its id: the same order always falls in the same
    group, whichever rows it comes with."""
    ids = pd.Series(np.asarray(order_ids, dtype=object)).astype(str).to_numpy()
    return (pd.util.hash_array(ids) % np.uint64(folds)).astype(np.int64)


def hindsight_forecasts(
    store_path: StorePath,
    rows: pd.DataFrame,
    as_of: datetime,
    *,
    max_rows: int | None,
    model_params: Mapping[str, Any] | None,
    folds: int = HINDSIGHT_FOLDS,
    progress: bool = False,
) -> np.ndarray:
    """The p50 of the model factory's deployed fit refit at `as_of`, for every (order, instant) of
    `rows`, in their order, cross-fitted by order: the orders fall into `folds` groups (`order_folds`),
    and each group's forecasts come from a refit on the other groups' journeys of the same history. A
    refit on every journey would answer for orders whose outcome it learnt: another prefix of the same
    order carries it (on the 100-day demo, 18.4 h in-sample against 18.8 h cross-fitted, each fit on
    20,000 prefixes). The history is sampled at `max_rows` × folds / (folds − 1) prefixes, so that each
    refit learns from `max_rows`, as one refit would. `folds=1`: one refit on every journey (in-sample)."""
    if folds < 1:
        raise ValueError(f"folds must be at least 1, got {folds}")
    sampled = max_rows if max_rows is None or folds == 1 else max_rows * folds // (folds - 1)
    frame = training_data.build_training_frame(store_path, as_of, max_rows=sampled)
    frame_fold, rows_fold = order_folds(frame["order_id"], folds), order_folds(rows["order_id"], folds)
    p50 = np.full(len(rows), np.nan)
    scored: dict[Any, pd.DataFrame] = {}
    label = f"hindsight refit, {folds} groups" if folds > 1 else "in-sample refit"
    for fold in tqdm(range(folds), desc=label, unit="fit", file=sys.stderr, disable=not progress):
        wanted = rows_fold == fold
        if not wanted.any():
            continue
        trained = training.train_candidates(
            store_path,
            as_of,
            frame=frame if folds == 1 else frame[frame_fold != fold].reset_index(drop=True),
            deploy=True,
            forecaster_params=dict(model_params or {}),
            classifier_params=dict(model_params or {}),
        )
        model = trained.deployed_forecaster
        assert model is not None
        for instant, where in rows.groupby("as_of_at").indices.items():
            where = where[wanted[where]]
            if not len(where):
                continue
            if instant not in scored:
                scored[instant] = features.build_prefix_features(
                    store_path, mode="single", as_of=pd.Timestamp(instant).to_pydatetime(), with_targets=False
                ).set_index("order_id")
            found = scored[instant].reindex(rows["order_id"].to_numpy()[where]).reset_index()
            p50[where] = evaluate.predict_forecast(model, found)["p50_h"].to_numpy()
    return p50


def recovery_report(
    store_path: StorePath = None,
    *,
    weeks: int = 3,
    as_of: datetime | date | str | None = None,
    hindsight: bool = True,
    max_rows: int | None = 20_000,
    model_params: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Live figures over the matured mornings of the last `weeks` weeks, overall and per carrier, with
    the hindsight refit's MAE on the same forecasts and their ratio."""
    at = accuracy.resolve_as_of(as_of, store_path)
    since = at.date() - timedelta(days=7 * weeks - 1)
    rows, mornings = matured_forecasts(store_path, as_of=at, since=since)
    report: dict[str, Any] = {
        "as_of": at.isoformat(),
        "since": since.isoformat(),
        "matured_mornings": [d.isoformat() for d in mornings],
        "live": live_figures(rows),
        "carriers": by_segment(rows),
    }
    if hindsight and len(rows):

        def refit(folds: int) -> np.ndarray:
            return hindsight_forecasts(
                store_path, rows, at, max_rows=max_rows, model_params=model_params, folds=folds, progress=progress
            )

        report["hindsight"] = {
            **_hindsight_figures(rows, refit(HINDSIGHT_FOLDS)),
            "folds": HINDSIGHT_FOLDS,
            # The same refit on every journey, the judged orders' own included: shown beside, not the yardstick.
            "in_sample": _hindsight_figures(rows, refit(1)),
        }
    return report


def _hindsight_figures(rows: pd.DataFrame, p50: np.ndarray) -> dict[str, Any]:
    """A hindsight p50's MAE on the forecasts it answered, the live MAE on the same ones, their ratio."""
    actual = rows["actual_h"].to_numpy(dtype=np.float64)
    known = ~np.isnan(p50)
    mae = float(np.abs(actual[known] - p50[known]).mean())
    live_same = float(np.abs(actual[known] - rows["p50_h"].to_numpy()[known]).mean())
    return {
        "forecasts": int(known.sum()),
        "mae_h": mae,
        "live_mae_h": live_same,
        "live_over_hindsight": live_same / mae if mae else None,
    }


def format_report(report: Mapping[str, Any]) -> str:
    """The report as a few lines of text (the CLI's `recovery` without --json)."""
    live = report["live"]
    mornings = report["matured_mornings"]
    lines = [
        f"matured mornings since {report['since']}: {len(mornings)}"
        + (f" ({mornings[0]} .. {mornings[-1]})" if mornings else "")
    ]
    if live.get("forecasts"):
        lines.append(_figures_line("live", live))
        for carrier, figures in report["carriers"].items():
            lines.append(_figures_line(f"  {carrier}", figures))
    hindsight = report.get("hindsight")
    if hindsight:
        lines.append(
            f"hindsight refit MAE {hindsight['mae_h']:.1f} h on the same {hindsight['forecasts']} forecasts "
            f"(cross-fitted over {hindsight['folds']} groups of orders); live / hindsight "
            f"{hindsight['live_over_hindsight']:.3f}"
        )
        in_sample = hindsight["in_sample"]
        lines.append(
            f"  in-sample refit (the judged orders' own outcomes learnt): MAE {in_sample['mae_h']:.1f} h; "
            f"live / in-sample {in_sample['live_over_hindsight']:.3f}"
        )
    return "\n".join(lines)


def _figures_line(label: str, figures: Mapping[str, Any]) -> str:
    return (
        f"{label:<14} {figures['forecasts']:>6} forecasts  MAE {figures['mae_h']:.1f} h  "
        f"bias {figures['bias_h']:+.1f} h  80% coverage {figures['coverage_80_pct']:.1f}%  "
        f"after p50 {figures['after_p50_pct']:.1f}%"
    )
