"""Cached reads, action handlers and charts of the Models page: the registry, champion vs challenger
on the same rows (core.views.models), the Retrain button (a background job with progress), promote/roll back
with a reason."""

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
from core.scoring import calibration as intervals
from core.views import models as model_views
from ui import data
from ui.display import level_label

KINDS = MODEL_KINDS
RETRAIN_KEY = "retrain_run"


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
        if (
            champion is not None
            and challenger is not None
            and challenger["version_number"] < champion["version_number"]
        ):
            challenger = None  # the newest version is the champion: nothing waits beside it
        pairs[kind] = {"champion": champion, "challenger": challenger}
    return {
        "versions": sorted(versions, key=lambda v: v["created_at"], reverse=True),
        "pairs": pairs,
        "audit": registry.audit_log(store_path),
    }


def versions_table(versions: list[dict[str, Any]]) -> pd.DataFrame:
    """Grain: model version — kind, number, status, champion flag, created, holdout business cost, gate."""
    rows = [
        {
            "version": v["version_id"],
            "kind": v["kind"],
            "status": v["status"],
            "champion": v["is_champion"],
            "created_at": pd.Timestamp(v["created_at"]),
            "business_cost": (v.get("evaluation") or {}).get("business_cost"),
            "gate": "passed" if (v.get("gate") or {}).get("passed") else "failed" if v.get("gate") else "—",
        }
        for v in versions
    ]
    return pd.DataFrame(rows, columns=["version", "kind", "status", "champion", "created_at", "business_cost", "gate"])


# Columns of the same-rows tables: label and format (the unit is in the format, the value stays a number).
FIGURE_COLUMNS: dict[str, tuple[str, str]] = {
    "n": ("Forecasts", "%d"),
    "business_cost": ("Cost per forecast", "€ %.3f"),
    "mae_h": ("MAE", "%.2f h"),
    "mean_error_h": ("Bias", "%+.2f h"),
    "coverage_80": ("80% coverage", "%.1f%%"),
    "interval_width_h": ("Interval width", "%.1f h"),
    "pr_auc": ("PR AUC", "%.3f"),
    "roc_auc": ("ROC AUC", "%.3f"),
}
CARD_COLUMNS: dict[str, Any] = {
    "role": st.column_config.TextColumn("Model"),
    "version": st.column_config.TextColumn("Version"),
    "status": st.column_config.TextColumn("Status"),
    "age_days": st.column_config.NumberColumn(
        "Data age", format="%.1f d", help="Days since the data it was trained on ends (its as-of instant)."
    ),
    "holdout_mae_h": st.column_config.NumberColumn("Holdout MAE", format="%.2f h"),
    "trained_as_of": st.column_config.DatetimeColumn("Trained as of", format="D MMM YYYY, HH:mm"),
    "evaluated_window": st.column_config.TextColumn("Evaluated on", help="The backtest fit the gate judged."),
    "deployed_window": st.column_config.TextColumn("Serving fit learned from", help="The fit that serves."),
}
SCALE_HELP = "The model's own bound, as 1 + hours, times this: ×1.20 moves a 47 h bound to 57 h."
CORRECTION_COLUMNS: dict[str, Any] = {
    "value": st.column_config.TextColumn("Carrier"),
    "forecasts": st.column_config.NumberColumn("Forecasts", format="%d"),
    "delivered": st.column_config.NumberColumn("Delivered", format="%d"),
    "scale_p10": st.column_config.NumberColumn("p10 scaled by", format="×%.2f", help=SCALE_HELP),
    "scale_p50": st.column_config.NumberColumn("p50 scaled by", format="×%.2f", help=SCALE_HELP),
    "scale_p90": st.column_config.NumberColumn("p90 scaled by", format="×%.2f", help=SCALE_HELP),
}


@st.cache_data(ttl=data.TTL_S, max_entries=8, show_spinner="Comparing the models on the same rows…")
def comparison_view(
    store_path: str, version: float, kind: str, champion_id: str | None, challenger_id: str | None
) -> dict[str, Any]:
    """core.views.models.compare_models for the pair shown (cached on the store stamp)."""
    return model_views.compare_models(kind, champion_id, challenger_id, store_path)


FIGURE_COLUMN_CONFIG: dict[str, Any] = {
    "model": st.column_config.TextColumn("Model"),
    **{key: st.column_config.NumberColumn(label, format=fmt) for key, (label, fmt) in FIGURE_COLUMNS.items()},
}


def _figure_rows(rows: list[tuple[str, dict[str, Any] | None]]) -> pd.DataFrame:
    records = []
    for label, figures in rows:
        if figures is None:
            continue
        record: dict[str, Any] = {"model": label}
        for key in FIGURE_COLUMNS:
            value = figures.get(key)
            record[key] = None if value is None else float(value) * (100.0 if key == "coverage_80" else 1.0)
        records.append(record)
    frame = pd.DataFrame(records, columns=["model", *FIGURE_COLUMNS])
    return frame.dropna(axis=1, how="all")


def gate_table(gate: dict[str, Any] | None) -> pd.DataFrame:
    """Grain: model — the judged version, the champion of the time and the baseline on its holdout rows."""
    if gate is None:
        return pd.DataFrame(columns=["model"])
    champion = f"champion then ({gate['champion_version']})" if gate["champion_version"] else "champion then"
    return _figure_rows(
        [(gate["version"], gate["challenger"]), (champion, gate["champion"]), ("baseline", gate["baseline"])]
    )


def gate_caption(gate: dict[str, Any] | None, judged_is_champion: bool) -> str:
    """Which rows the gate compared on, and whether they were provably the same."""
    if gate is None:
        return "No gate figures recorded for this version."
    rows = f"{gate['n']:,} holdout forecasts" + (f" (rows {str(gate['rows_hash'])[:12]})" if gate["rows_hash"] else "")
    when = "when it was promoted" if judged_is_champion else "at its retrain"
    if gate["champion"] is None:
        return (
            f"The gate {when}, on {rows}: no champion figures on these rows were recorded (the first champion, "
            "or a version trained before they were kept)."
        )
    same = "the same rows for all three" if gate["same_rows"] else "**not** the same rows — do not compare"
    return f"The gate {when}: {gate['version']} and the champion of the time scored on {rows}; {same}."


def shadow_table(shadow: dict[str, Any] | None) -> pd.DataFrame:
    """Grain: model — the shadowed candidate and the champion on the same matured live forecasts."""
    if shadow is None or shadow["challenger"] is None:
        return pd.DataFrame(columns=["model"])
    return _figure_rows(
        [
            (f"{shadow['version']} (in shadow)", shadow["challenger"]),
            (f"{shadow['champion_version']} (champion)", shadow["champion"]),
        ]
    )


def shadow_caption(shadow: dict[str, Any] | None) -> str:
    """How many mornings the candidate has been in shadow and how many of its forecasts have matured."""
    if shadow is None:
        return "No candidate is in shadow: the champion serves alone."
    if shadow["shadow_mornings"] == 0:
        return f"{shadow['version']} is in shadow; it has not scored a morning yet."
    rows = f" (rows {str(shadow['rows_hash'])[:12]})" if shadow["rows_hash"] else ""
    return (
        f"{shadow['version']} in shadow for {shadow['shadow_mornings']} morning(s), "
        f"{shadow['matured_mornings']} of them matured: {shadow['n']:,} delivered forecasts scored by both"
        f"{rows}."
    )


def _window(window: Any) -> str:
    if isinstance(window, dict):
        window = [window.get("from"), window.get("to")]
    if isinstance(window, list | tuple) and len(window) == 2:
        return " → ".join(str(pd.Timestamp(w).strftime("%d %b %Y %H:%M")) if w else "?" for w in window)
    return "—" if window is None else str(window)


def cards_table(cards: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Grain: model — version, status, data age, holdout MAE, when trained and both windows."""
    rows = [
        {
            "role": role,
            "version": card["version"],
            "status": card["status"],
            "age_days": card["age_days"],
            "holdout_mae_h": None if card["holdout_mae_days"] is None else float(card["holdout_mae_days"]) * 24.0,
            "trained_as_of": pd.Timestamp(card["trained_as_of"]) if card["trained_as_of"] else pd.NaT,
            "evaluated_window": _window(card["evaluated_window"]),
            "deployed_window": _window(card["deployed_window"]),
        }
        for role, card in cards.items()
    ]
    return pd.DataFrame(rows, columns=list(CARD_COLUMNS))


def corrections_table(corrections: pd.DataFrame) -> pd.DataFrame:
    """Grain: carrier (and `every order`) — the factor each bound was scaled by on the latest day. The
    refinements per stage within a carrier are counted in the caption, not listed."""
    carrier_level = ~corrections["value"].astype(str).str.contains(intervals.NESTED, regex=False)
    frame = corrections.loc[carrier_level, list(CORRECTION_COLUMNS)].copy()
    frame["value"] = frame["value"].replace({"*": "every order"})
    return frame.reset_index(drop=True)


def corrections_caption(corrections: pd.DataFrame) -> str:
    """When the corrections shown were applied and what they learnt from."""
    if corrections.empty:
        return "No correction yet: the daily run corrects the intervals once served forecasts are in."
    day = pd.Timestamp(corrections["as_of_date"].iloc[0])
    cells = int(corrections["value"].astype(str).str.contains(intervals.NESTED, regex=False).sum())
    return (
        f"Factors on the model's own bounds from the daily run of {day:%d %b %Y}, learnt from the "
        "champion's forecasts of the last mornings (orders still open count as not yet delivered); "
        "a carrier with few forecasts leans on the correction for every order. Within each carrier a "
        f"correction per current stage refines these ({cells} in all; a stage with few forecasts leans on "
        "its carrier's)." + _levels_sentence(corrections)
    )


def _levels_sentence(corrections: pd.DataFrame) -> str:
    """The levels the bounds were estimated at, when the run recorded them (days before they were kept
    have none)."""
    levels = corrections.reindex(columns=list(intervals.LEVEL_COLUMNS)).dropna()
    if levels.empty:
        return ""
    low, high = (float(v) for v in levels.iloc[0])
    return (
        f" The p10 and p90 were estimated at the {low:.0%} and {high:.0%} levels: 10% and 90%, moved by how "
        "often the bounds as served missed over the same mornings."
    )


def segment_compare(gate: dict[str, Any] | None) -> pd.DataFrame:
    """Grain: segment × level — forecasts and cost of the judged version and the champion of the time,
    on the same holdout rows."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for role in ("challenger", "champion"):
        for segment, levels in ((gate or {}).get("segments") or {}).get(role, {}).items():
            for level, figures in levels.items():
                row = rows.setdefault((segment, level), {"segment": segment, "level": level})
                row[f"{role}_n"] = figures.get("n")
                row[f"{role}_cost"] = figures.get("business_cost")
    columns = ["segment", "level", "challenger_n", "challenger_cost", "champion_n", "champion_cost"]
    return pd.DataFrame(list(rows.values()), columns=columns)


SEGMENT_COLUMNS: dict[str, Any] = {
    "segment": st.column_config.TextColumn("Segment"),
    "level": st.column_config.TextColumn("Level"),
    "challenger_n": st.column_config.NumberColumn("Forecasts", format="%d"),
    "challenger_cost": st.column_config.NumberColumn("Cost, judged version", format="€ %.3f"),
    "champion_n": st.column_config.NumberColumn("Forecasts (champion)", format="%d"),
    "champion_cost": st.column_config.NumberColumn("Cost, champion then", format="€ %.3f"),
}


def segment_chart(gate: dict[str, Any] | None) -> go.Figure:
    """Cost per segment level on the same holdout rows: the judged version beside the champion of the time."""
    frame = segment_compare(gate)
    labels = [level_label(s, v) for s, v in zip(frame["segment"], frame["level"], strict=True)]
    figure = go.Figure()
    names = {
        "challenger": (gate or {}).get("version"),
        "champion": f"champion then ({(gate or {}).get('champion_version')})",
    }
    for role, colour in (("challenger", "#e6550d"), ("champion", "#3b6ea5")):
        if frame[f"{role}_cost"].notna().any():
            figure.add_bar(y=labels, x=frame[f"{role}_cost"], name=names[role], orientation="h", marker_color=colour)
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_layout(
        barmode="group",
        height=max(360, 22 * len(frame) + 80),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="cost per forecast (€), same rows",
    )
    return figure


def start_retrain(user: roles.User, store_path: str) -> str:
    """The Retrain button's handler: refused unless the role may retrain; the run id (a running one if any)."""
    roles.require(user, "retrain")
    run_id = queue.enqueue_retrain(store_path, actor=user.actor)
    st.session_state[RETRAIN_KEY] = run_id
    return run_id


def promote(
    user: roles.User,
    version_id: str,
    expected_champion: str | None,
    reason: str,
    store_path: str,
    force: bool = False,
) -> None:
    """Promote a version over the champion the user saw, with a reason (refused unless the role may promote)."""
    roles.require(user, "promote")
    promotion.promote(
        version_id,
        actor=user.actor,
        reason=reason,
        expected_champion=expected_champion,
        store_path=store_path,
        force=force,
    )


def rollback(user: roles.User, kind: str, reason: str, store_path: str) -> None:
    """Roll the champion of `kind` back to the previous one with a reason (refused unless the role may)."""
    roles.require(user, "rollback")
    promotion.rollback(kind, actor=user.actor, reason=reason, store_path=store_path)


def audit_table(audit: list[dict[str, Any]]) -> pd.DataFrame:
    """Grain: registry action — when, what, which version, who and why; newest first."""
    columns = ["acted_at", "kind", "action", "version_id", "previous_version_id", "actor", "reason"]
    frame = pd.DataFrame(audit, columns=columns)
    return frame.sort_values("acted_at", ascending=False, ignore_index=True)
