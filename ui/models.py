"""Cached reads, action handlers and charts of the Models page: the registry, champion vs challenger,
backtests, the Retrain button (a background job with progress), promote/roll back with a reason."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.access import roles
from core.domain import MODEL_KINDS
from core.jobs import queue
from core.registry import promotion
from core.registry import versions as registry
from ui import data

KINDS = MODEL_KINDS
RETRAIN_KEY = "retrain_run"
# metric -> (label, scale, format) shown side by side, in this order
METRIC_LABELS: dict[str, tuple[str, float, str]] = {
    "business_cost": ("business cost per order (€)", 1.0, "{:.3f}"),
    "mae_h": ("MAE (h)", 1.0, "{:.2f}"),
    "median_ae_h": ("median abs. error (h)", 1.0, "{:.2f}"),
    "mean_error_h": ("bias (h)", 1.0, "{:+.2f}"),
    "coverage_80": ("interval coverage (%)", 100.0, "{:.1f}"),
    "interval_width_h": ("interval width (h)", 1.0, "{:.1f}"),
    "share_too_early": ("too early (%)", 100.0, "{:.1f}"),
    "share_too_late": ("too late (%)", 100.0, "{:.1f}"),
    "roc_auc": ("ROC AUC", 1.0, "{:.3f}"),
    "pr_auc": ("PR AUC", 1.0, "{:.3f}"),
    "brier": ("Brier score", 1.0, "{:.4f}"),
    "calibration_error": ("calibration error", 1.0, "{:.4f}"),
    "precision_at_k": ("precision@k (%)", 100.0, "{:.1f}"),
    "recall_at_k": ("recall@k (%)", 100.0, "{:.1f}"),
}


@st.cache_data(ttl=data.TTL_S, max_entries=8, show_spinner="Reading the registry…")
def registry_view(store_path: str, version: float) -> dict[str, Any]:
    """Every version (plain dicts, newest first), the champion and latest challenger per kind, the audit log."""
    versions = [v.to_dict() for v in registry.list_versions(None, store_path)]
    pairs: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [v for v in versions if v["kind"] == kind]
        champion = next((v for v in mine if v["is_champion"]), None)
        others = [v for v in mine if not v["is_champion"]]
        challenger = max(others, key=lambda v: v["version_number"]) if others else None
        if champion is not None and challenger is not None and challenger["version_number"] < champion["version_number"]:
            challenger = None  # the newest version is the champion: nothing waits beside it
        pairs[kind] = {"champion": champion, "challenger": challenger}
    return {"versions": sorted(versions, key=lambda v: v["created_at"], reverse=True), "pairs": pairs,
            "audit": registry.audit_log(store_path)}


def versions_table(versions: list[dict[str, Any]]) -> pd.DataFrame:
    """Grain: model version — kind, number, status, champion flag, created, holdout business cost, gate."""
    rows = [{
        "version": v["version_id"], "kind": v["kind"], "status": v["status"], "champion": v["is_champion"],
        "created_at": pd.Timestamp(v["created_at"]), "business_cost": (v.get("evaluation") or {}).get("business_cost"),
        "gate": "passed" if (v.get("gate") or {}).get("passed") else "failed" if v.get("gate") else "—",
    } for v in versions]
    return pd.DataFrame(rows, columns=["version", "kind", "status", "champion", "created_at", "business_cost", "gate"])


def _figures(version: dict[str, Any] | None) -> dict[str, Any]:
    if version is None:
        return {}
    evaluation = version.get("evaluation") or {}
    return {**version.get("metrics", {}), **evaluation.get("metrics", {}), "business_cost": evaluation.get("business_cost")}


def side_by_side(champion: dict[str, Any] | None, challenger: dict[str, Any] | None) -> pd.DataFrame:
    """Grain: metric — champion and challenger on their holdouts, formatted for people."""
    left, right = _figures(champion), _figures(challenger)
    rows = []
    for key, (label, scale, fmt) in METRIC_LABELS.items():
        if key not in left and key not in right:
            continue
        cells = [fmt.format(v[key] * scale) if v.get(key) is not None else "—" for v in (left, right)]
        rows.append({"metric": label, "champion": cells[0], "challenger": cells[1]})
    return pd.DataFrame(rows, columns=["metric", "champion", "challenger"])


def segment_compare(champion: dict[str, Any] | None, challenger: dict[str, Any] | None) -> pd.DataFrame:
    """Grain: segment × level — holdout orders and business cost of champion and challenger."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for role, version in (("champion", champion), ("challenger", challenger)):
        segments = ((version or {}).get("evaluation") or {}).get("segments") or {}
        for segment, levels in segments.items():
            for level, figures in levels.items():
                row = rows.setdefault((segment, level), {"segment": segment, "level": level})
                row[f"{role}_n"] = figures.get("n")
                row[f"{role}_cost"] = figures.get("business_cost")
    columns = ["segment", "level", "champion_n", "champion_cost", "challenger_n", "challenger_cost"]
    return pd.DataFrame(list(rows.values()), columns=columns)


def backtest_chart(champion: dict[str, Any] | None, challenger: dict[str, Any] | None) -> go.Figure:
    """Holdout business cost per segment level, champion beside challenger (from their backtests)."""
    frame = segment_compare(champion, challenger)
    labels = frame["segment"] + ": " + frame["level"].astype(str)
    figure = go.Figure()
    for role, version, colour in (("champion", champion, "#3b6ea5"), ("challenger", challenger, "#e6550d")):
        if version is not None:
            figure.add_bar(y=labels, x=frame[f"{role}_cost"], name=f"{role} {version['version_id']}",
                           orientation="h", marker_color=colour)
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_layout(barmode="group", height=max(360, 22 * len(frame) + 80),
                         margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="holdout business cost per order (€)")
    return figure


def start_retrain(user: roles.User, store_path: str) -> str:
    """The Retrain button's handler: refused unless the role may retrain; the run id (a running one if any)."""
    roles.require(user, "retrain")
    run_id = queue.enqueue_retrain(store_path, actor=user.name)
    st.session_state[RETRAIN_KEY] = run_id
    return run_id


def promote(
    user: roles.User, version_id: str, expected_champion: str | None, reason: str, store_path: str,
    force: bool = False,
) -> None:
    """Promote a version over the champion the user saw, with a reason (refused unless the role may promote)."""
    roles.require(user, "promote")
    promotion.promote(version_id, actor=user.name, reason=reason, expected_champion=expected_champion,
                     store_path=store_path, force=force)


def rollback(user: roles.User, kind: str, reason: str, store_path: str) -> None:
    """Roll the champion of `kind` back to the previous one with a reason (refused unless the role may)."""
    roles.require(user, "rollback")
    promotion.rollback(kind, actor=user.name, reason=reason, store_path=store_path)


def audit_table(audit: list[dict[str, Any]]) -> pd.DataFrame:
    """Grain: registry action — when, what, which version, who and why; newest first."""
    columns = ["acted_at", "kind", "action", "version_id", "previous_version_id", "actor", "reason"]
    frame = pd.DataFrame(audit, columns=columns)
    return frame.sort_values("acted_at", ascending=False, ignore_index=True)
