"""Evidently behind one door: its drift report with explicit per-column methods and thresholds, the verdicts read back
from its snapshot, one column's score by its own stat test, and its HTML of a stored snapshot.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    methods: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> Any:
    """Evidently's DataDriftPreset with explicit per-column methods and thresholds; the Snapshot."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns = list(kinds)
    definition = DataDefinition(
        numerical_columns=[c for c in columns if kinds[c] == "numeric"],
        categorical_columns=[c for c in columns if kinds[c] == "categorical"],
    )
    preset = DataDriftPreset(
        columns=columns,
        per_column_method={c: methods[c] for c in columns},
        per_column_threshold={c: float(thresholds[c]) for c in columns},
    )
    # A batch where a column is constant (one instant's WIP count) makes numpy warn inside Evidently's
    # correlation widgets; the drift scores are unaffected.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return Report([preset], include_tests=True).run(
            current_data=Dataset.from_pandas(current[columns], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[columns], data_definition=definition),
        )


def parse_snapshot(snapshot_dict: Mapping[str, Any]) -> pd.DataFrame:
    """Per column: method, score, threshold and drifted (the linked test failed) from snap.dict()."""
    failed = {
        test["metric_config"]["metric_id"]
        for test in snapshot_dict.get("tests", [])
        if str(getattr(test["status"], "value", test["status"])) == "FAIL"
    }
    rows = [
        {
            "column": metric["config"]["column"],
            "method": metric["config"]["method"],
            "score": float(metric["value"]),
            "threshold": float(metric["config"]["threshold"]),
            "drifted": metric["id"] in failed,
        }
        for metric in snapshot_dict.get("metrics", [])
        if str(metric["config"].get("type", "")).endswith(":ValueDrift")
    ]
    return pd.DataFrame(rows, columns=["column", "method", "score", "threshold", "drifted"])


def score_column(reference: pd.Series, current: pd.Series, kind: str, method: str) -> float:
    """One column's drift score by Evidently's own stat test (what its report computes), without a report."""
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
    test = get_stattest(reference, current, column_type, method)
    return float(test(reference, current, column_type, None).drift_score)


def render_drift_html(snapshot_json: str, path: str | os.PathLike[str]) -> Path:
    """Write Evidently's self-contained HTML report of a stored snapshot; the path written."""
    from evidently.core.report import Snapshot

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    Snapshot.loads(snapshot_json).save_html(str(out))
    return out
