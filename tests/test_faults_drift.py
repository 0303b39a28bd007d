"""Degenerate drift batches through the whole monitor step the daily run takes — `compute_drift`
(our checks, then Evidently on what is fit to compare) and the default alert rules: never an
exception, and exactly the alerts that say what is wrong. Evidently alone raises on an empty batch,
an all-NaN or missing column and numbers as text, calls a 3-row batch all drifted and sees no
drift at 50% NaNs (docs STACK-NOTES); the checks one by one: tests/test_drift.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.monitor import alerts, drift
from tests.test_drift import orders_frame

FEATURES = ["elapsed_h", "order_value", "items", "carrier"]
PREDICTIONS = ["p50_days"]
REFERENCE = orders_frame(1000, seed=1)


def half_null(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(elapsed_h=np.where(np.arange(len(frame)) % 2 == 0, np.nan, frame["elapsed_h"]))


def numbers_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    # items all parse as numbers; one p50_days value in ten is "n/a"
    p50 = [str(v) if i % 10 else "n/a" for i, v in enumerate(frame["p50_days"])]
    return frame.assign(items=frame["items"].astype(str), p50_days=p50)


BATCHES: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], dict[str, str], list[tuple[str, str]]]] = {
    # name: (batch from a quiet day of 1,000 rows, status per column, alerts as (rule, subject))
    "empty": (lambda f: f.iloc[:0], dict.fromkeys(FEATURES + PREDICTIONS, "too_small"), []),
    "3 rows": (lambda f: f.iloc[:3], dict.fromkeys(FEATURES + PREDICTIONS, "too_small"), []),
    "all null": (
        lambda f: f.assign(**{c: np.nan for c in f.columns}),
        dict.fromkeys(FEATURES + PREDICTIONS, "invalid"),
        [("feature_invalid", c) for c in FEATURES + PREDICTIONS],
    ),
    "half null": (
        half_null,
        {"elapsed_h": "drifted", "order_value": "ok", "items": "ok", "carrier": "ok", "p50_days": "ok"},
        [("missing_rate_jump", "elapsed_h")],
    ),
    "missing column": (
        lambda f: f.drop(columns=["carrier"]),
        {"elapsed_h": "ok", "order_value": "ok", "items": "ok", "carrier": "invalid", "p50_days": "ok"},
        [("feature_invalid", "carrier")],
    ),
    "numbers as strings": (
        numbers_as_text,
        {"elapsed_h": "ok", "order_value": "ok", "items": "ok", "carrier": "ok", "p50_days": "invalid"},
        [("feature_invalid", "p50_days")],
    ),
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_a_degenerate_batch_gets_a_verdict_per_column_and_only_the_alerts_that_name_it(name):
    make, statuses, expected_alerts = BATCHES[name]
    current = make(orders_frame(1000, seed=2))
    result = drift.attach_report(drift.compute_drift(REFERENCE, current, FEATURES, PREDICTIONS))
    assert result.columns.set_index("column")["status"].to_dict() == statuses
    assert (result.snapshot_json is None) == (set(statuses.values()) <= {"too_small", "invalid"})
    found = alerts.evaluate_rules({"as_of": date(2026, 3, 29), "drift": result})
    assert [(a.rule, a.subject) for a in found] == expected_alerts
