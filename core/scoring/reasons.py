"""Per-order reasons from the classifier itself: for a listed order, each feature group in turn is
set to its typical value in the champion's reference sample (median or mode) and the change in the
stuck probability is measured. A group that raises the risk well above what a typical value would
give is a reason. It is honest (the model's own response, not a restated stage) and cheap, because
only the listed orders (tens to hundreds) are explained."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core import features
from core.models.training_data import prepare_features

TOP_REASONS = 3
MIN_REASON_EFFECT = 0.01  # a change below one point of probability is not a reason
# Feature groups explained together (their values only make sense as a set).
GROUP_PREFIXES: dict[str, str] = {features.ACTIVITY_PREFIX: "stages visited so far"}
GROUPS: dict[str, tuple[str, ...]] = {
    "recent stages": ("prev_stage_1", "prev_stage_2"),
    "calendar": ("as_of_weekday", "as_of_hour", "as_of_day_of_year"),
    "time in the current stage": ("time_in_stage_h", "stall_ratio"),
}
LABELS: dict[str, str] = {
    "current_stage": "stage",
    "elapsed_h": "hours since placed",
    "prev_step_h": "hours the previous step took",
    "elapsed_at_last_event_h": "hours from placing to the last event",
    "exceptions_so_far": "exceptions so far",
    "stall_limit_h": "stall limit of the stage (h)",
    "to_promise_h": "hours to the promised date",
    "order_value": "order value",
    "wip_stage": "orders in the same stage",
    "wip_warehouse": "open orders at the warehouse",
    "wip_carrier": "open orders with the carrier",
    "wip_all": "open orders",
}


def model_inputs(model: Any) -> tuple[list[str], list[str]]:
    """(categorical, numeric) input columns of a fitted pipeline."""
    transformer = model.named_steps["features"] if "features" in model.named_steps else model[0]
    columns = {name: list(cols) for name, _, cols in transformer.transformers}
    return columns.get("categorical", []), columns.get("numeric", [])


def typical_values(reference: pd.DataFrame, categorical: Sequence[str], numeric: Sequence[str]) -> dict[str, Any]:
    """Median of each numeric input and mode of each categorical one in the reference sample."""
    values: dict[str, Any] = {}
    for name in numeric:
        column = pd.to_numeric(reference[name], errors="coerce") if name in reference else pd.Series(dtype=float)
        values[name] = float(column.median()) if column.notna().any() else np.nan
    for name in categorical:
        column = reference[name].dropna() if name in reference else pd.Series(dtype=object)
        values[name] = column.astype(str).mode().sort_values().iloc[0] if len(column) else np.nan
    return values


# ------------------------------------------------------------------------------- reasons


def feature_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    """Model inputs grouped for explanation: named groups, prefix groups, then one group per column."""
    groups: dict[str, list[str]] = {}
    taken: set[str] = set()
    for name, members in GROUPS.items():
        present = [c for c in members if c in columns]
        if present:
            groups[name] = present
            taken.update(present)
    for prefix, name in GROUP_PREFIXES.items():
        present = [c for c in columns if c.startswith(prefix) and c not in taken]
        if present:
            groups[name] = present
            taken.update(present)
    for column in columns:
        if column not in taken:
            groups[column] = [column]
    return groups


def _format_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{float(value):,.0f}" if abs(float(value)) >= 10 else f"{float(value):.1f}"
    return str(value)


def _reason_text(
    group: str, members: Sequence[str], row: Mapping[str, Any], typical: Mapping[str, Any], effect: float
) -> str:
    points = f"+{100 * effect:.0f} pts" if effect >= 0.005 else f"+{100 * effect:.1f} pts"
    if len(members) == 1:
        column = members[0]
        label = LABELS.get(column, column.replace("_", " "))
        return (
            f"{label} {_format_value(row.get(column))} (typical {_format_value(typical.get(column))}) "
            f"raises the stuck risk by {points}"
        )
    return f"{group} unlike a typical order raises the stuck risk by {points}"


def explain_stuck(
    classifier: Any,
    rows: pd.DataFrame,
    typical: Mapping[str, Any],
    top: int = TOP_REASONS,
) -> list[list[dict[str, Any]]]:
    """Per row, up to `top` reasons: the feature groups whose typical value would lower the stuck
    probability most, with the effect (probability points as a share) and a readable text."""
    if rows.empty:
        return []
    categorical, numeric = model_inputs(classifier)
    columns = categorical + numeric
    base = prepare_features(rows, categorical, numeric)
    groups = feature_groups(columns)
    # All perturbations in ONE predict call: a call has a fixed cost (thread start-up per tree) far
    # above its per-row cost at list sizes, so groups x rows rows in one batch is the cheap way.
    perturbed = []
    for members in groups.values():
        variant = base.copy()
        for column in members:
            variant[column] = typical.get(column, np.nan)
        perturbed.append(variant)
    stacked = pd.concat(perturbed, ignore_index=True)[columns]
    p_all = classifier.predict_proba(pd.concat([base[columns], stacked], ignore_index=True))[:, 1]
    p_now = p_all[: len(rows)]
    effects = p_now[:, None] - p_all[len(rows) :].reshape(len(groups), len(rows)).T
    names = list(groups)
    raw_rows = rows.to_dict("records")
    out: list[list[dict[str, Any]]] = []
    order = np.argsort(-effects, axis=1, kind="stable")
    for i, record in enumerate(raw_rows):
        reasons = []
        for j in order[i, :top]:
            effect = float(effects[i, j])
            if effect < MIN_REASON_EFFECT:
                break
            members = groups[names[j]]
            reasons.append(
                {
                    "feature": names[j],
                    "value": None if len(members) > 1 else _json_value(record.get(members[0])),
                    "typical": None if len(members) > 1 else _json_value(typical.get(members[0])),
                    "effect": round(effect, 4),
                    "text": _reason_text(names[j], members, record, typical, effect),
                }
            )
        out.append(reasons)
    return out


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer | np.floating):
        return value.item()
    return value if isinstance(value, int | float | str | bool) else str(value)
