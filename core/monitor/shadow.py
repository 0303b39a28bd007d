"""The live comparison of a shadowed candidate with the champion: both scored the same open orders
every morning; once enough of those mornings have matured, their own p50s are judged on the same
delivered (morning, order) rows with the stored cost assumptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from core import domain, store
from core.config import StorePath
from core.domain import SEGMENT_COLUMNS, CostAssumptions
from core.models import metrics
from core.models.evaluate import rows_hash
from core.monitor.accuracy import matured_mornings

# The live gate judges a morning once this share of its orders is delivered or cancelled. Both models
# are judged on the same delivered rows (a paired comparison), so the long journeys still open bias
# neither against the other; waiting for 98% (as the accuracy reports do) takes longer than a cycle.
LIVE_MATURED_SHARE = 0.8


def live_pairs(challenger: str, champion: str, as_of: datetime, store_path: StorePath = None) -> pd.DataFrame:
    """Both models' p50 on every (morning, order) they both scored, with the order's outcome by as_of."""
    return store.fetch_df(
        "gate_live_pairs",
        {
            "challenger": challenger,
            "champion": champion,
            "as_of": as_of,
            "delivered_stage": "delivered",
            "cancelled_stage": domain.CANCELLED,
        },
        store_path,
    )


def live_evaluations(
    pairs: pd.DataFrame, costs: CostAssumptions, share: float = LIVE_MATURED_SHARE
) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """(challenger, champion) evaluation dicts of the gate on the delivered rows of matured mornings,
    and those mornings."""
    mornings = matured_mornings(pairs, share)
    day = pd.to_datetime(pairs["as_of_date"]).dt.date
    rows = pairs[day.isin(mornings) & pairs["delivered_at"].notna()].reset_index(drop=True)
    actual = (
        (pd.to_datetime(rows["delivered_at"]) - pd.to_datetime(rows["as_of_at"])).dt.total_seconds() / 3600.0
    ).to_numpy()
    fingerprint = rows_hash(rows)

    def evaluation(column: str) -> dict[str, Any]:
        p50 = rows[column].to_numpy(dtype=np.float64)
        cost = metrics.forecast_costs(actual, p50, costs)

        def summary(mask: np.ndarray) -> dict[str, Any]:
            return {
                "n": int(mask.sum()),
                "business_cost": float(cost[mask].mean()) if mask.any() else float("nan"),
                "mae_h": float(np.abs(actual[mask] - p50[mask]).mean()) if mask.any() else float("nan"),
            }

        everything = summary(np.ones(len(rows), dtype=bool))
        segments = {
            column: {str(v): summary((rows[column] == v).to_numpy()) for v in rows[column].dropna().unique()}
            for column in SEGMENT_COLUMNS
            if column in rows
        }
        return {
            "kind": "forecaster",
            "rows_hash": fingerprint,
            "n": everything["n"],
            "business_cost": everything["business_cost"],
            "metrics": {"mae_h": everything["mae_h"]},
            "segments": segments,
        }

    return evaluation("challenger_p50_h"), evaluation("champion_p50_h"), mornings
