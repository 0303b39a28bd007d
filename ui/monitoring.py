"""Cached reads and action handlers of the monitoring pages (Forecast accuracy, Drift, Data quality,
Segments & bias, Benefits, Operations). Every figure comes from a `core` function; here it is only
read (cached by store path + store stamp + as-of day) and guarded; ui.monitor_charts draws it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.access import activity, auth, roles
from core.errors import StoreBusyError
from core.jobs import queue, runs
from core.monitor import alert_store, assumptions, benefit_figures, benefits, drift_store, validity
from core.views import operations, stored
from ui import data, layout, session

TTL_S = data.TTL_S
POLL_S = 2
NO_DAILY_NOTE = (
    "No daily run has written {what} yet — run `python -m core demo` (it builds a history with daily "
    "runs) or `python -m core daily`, then reload this page."
)
NO_GO_LIVE_NOTE = (
    "No model ETA shown or triage list drawn yet, so every week is baseline — run `python -m core demo` "
    "(or the daily runs with a champion) to go live."
)
FORBIDDEN_NOTE = session.FORBIDDEN_NOTE


# ---------------------------------------------------------------- who and when


def current_user() -> roles.User:
    """The user of this session (ui.session)."""
    return session.current_user()


def guard_page(page_key: str) -> roles.User:
    """The user, after a calm stop when their role may not open this page (ui.session's guard)."""
    return session.require_page(page_key)


def as_of_day(store_path: str) -> tuple[date, float]:
    """The as-of day picked in the sidebar (default the latest day with events) and the store stamp;
    call inside layout.store_guard()."""
    version = data.store_version(store_path)
    first_day, last_day = layout.stop_if_empty(data.event_span(store_path, version))
    return layout.as_of_picker(first_day, last_day), version


def no_daily_data(what: str) -> None:
    """A friendly note saying what to run, and stop the page."""
    st.info(NO_DAILY_NOTE.format(what=what), icon=":material/inbox:")
    st.stop()


def pct(value: Any) -> str:
    """A percentage with one decimal, or a dash."""
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def num(value: Any, unit: str = "", digits: int = 1) -> str:
    """A number with a unit, or a dash."""
    return "—" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}{unit}"


def eur(value: Any) -> str:
    """Money in EUR, or a dash."""
    return "—" if value is None or pd.isna(value) else f"€{float(value):,.0f}"


# ---------------------------------------------------------------- Forecast accuracy


def _as_days(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.date}) if len(frame) else frame


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner="Scoring forecasts against what happened…")
def accuracy_view(store_path: str, version: float, as_of: date, segment: str) -> dict[str, Any]:
    """Forecast and triage accuracy as of a day: overall, per morning, per level of `segment`
    (the daily job's stored view when current, core.views.stored)."""
    return stored.accuracy_view(as_of, segment, store_path)


def accuracy_kpis(view: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The headline row of the Forecast accuracy page (realised forecasts and listings only)."""
    f, t = view["forecast"], view["triage"]
    return [
        ("MAE", num(f.get("mae_h"), " h"), "Mean absolute error of the p50 ETA, matured forecasts."),
        ("Bias", num(f.get("bias_h"), " h"), "Mean p50 − actual; above 0 the ETA is conservative."),
        ("Interval coverage", pct(f.get("coverage_80_pct")), "Share delivered within p10..p90 (aim: 80%)."),
        ("Too early", pct(f.get("too_early_pct")), "Delivered after the p50 ETA (optimistic)."),
        ("Too late", pct(f.get("too_late_pct")), "Delivered before the p50 ETA (conservative)."),
        ("Cost per forecast", num(f.get("cost_per_forecast_eur"), " €", 2), "Mean cost of the ETA's error."),
        ("Precision@k", pct(t.get("precision_at_k_pct")), "Share of the top k of each list that got stuck."),
        ("Lead time", num(t.get("lead_time_h"), " h"), "Hours from first listed to stuck, caught orders."),
    ]


# ---------------------------------------------------------------- Drift


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner="Reading drift…")
def drift_view(store_path: str, version: float, as_of: date, days: int) -> dict[str, Any]:
    """Stored drift rows of the `days` days up to as_of, and the days holding an Evidently snapshot."""
    rows = drift_store.read_drift(as_of - timedelta(days=days - 1), store_path)
    rows = rows.loc[pd.to_datetime(rows["as_of"]).dt.date <= as_of].copy()
    rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
    rows["score_vs_threshold"] = rows["score"] / rows["threshold"]
    return {"rows": rows, "days": sorted(rows["as_of"].unique(), reverse=True)}


def drift_table(rows: pd.DataFrame, day: date) -> pd.DataFrame:
    """The drift rows of one day, the drifted first."""
    columns = [
        "column",
        "role",
        "kind",
        "method",
        "score",
        "threshold",
        "drifted",
        "missing_rate_ref",
        "missing_rate_cur",
        "new_category_share",
        "status",
        "note",
    ]
    day_rows = rows.loc[rows["as_of"] == day, columns]
    return day_rows.sort_values(["drifted", "score"], ascending=[False, False], na_position="last")


def report_file(store_path: str, day: date) -> Path | None:
    """The rendered Evidently report of a day, when a job has written it (a Path: st.iframe reads
    a Path as a file, a str as HTML)."""
    path = queue.drift_report_path(day, store_path)
    return path if path.is_file() else None


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner=False)
def report_days(store_path: str, version: float) -> list[date]:
    """The days whose Evidently snapshot is stored (their report can be built); cached per store version."""
    return drift_store.snapshot_days(store_path)


def build_drift_report(store_path: str, day: date) -> str:
    """Start (or join) the background job rendering the day's report; the run id, kept in session_state."""
    run_id = queue.enqueue_drift_report(day, store_path)
    st.session_state["drift_report_run"] = run_id
    return run_id


def job_progress(store_path: str, key: str, done_label: str) -> None:
    """Poll the run in session_state[key] every POLL_S seconds; rerun the page once it has ended."""

    @st.fragment(run_every=POLL_S)
    def _poll() -> None:
        run_id = st.session_state.get(key)
        if run_id is None:
            return
        try:
            status = queue.job_status(run_id, store_path)
        except StoreBusyError:
            st.caption("The store is busy with a write — refreshing in a moment.")
            return
        if status.running:
            st.progress(status.fraction, text=f"{status.kind} run {run_id}: {status.message}")
            return
        del st.session_state[key]
        if status.status == "succeeded":
            st.toast(done_label, icon=":material/check_circle:")
        else:
            st.session_state[f"{key}_error"] = f"The {status.kind} run {run_id} {status.status}: {status.error}"
        st.rerun(scope="app")

    _poll()
    failure = st.session_state.pop(f"{key}_error", None)
    if failure:
        st.error(failure, icon=":material/error:")


# ---------------------------------------------------------------- Data quality


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner="Reading contract results…")
def quality_view(store_path: str, version: float, as_of: date) -> dict[str, Any]:
    """Contract results per batch (day) up to as_of, their reasons, and a sample of quarantined rows."""
    rows = validity.read_validity(None, store_path)
    rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
    rows = rows.loc[rows["as_of"] <= as_of]
    batches = rows.drop_duplicates("as_of")[["as_of", "rows_total", "batch_rows_quarantined", "quarantined_share"]]
    batches = batches.rename(columns={"batch_rows_quarantined": "rows_quarantined"}).sort_values(
        "as_of", ascending=False
    )
    batches["quarantined_pct"] = batches.pop("quarantined_share") * 100.0
    reasons = rows.dropna(subset=["reason"])[["as_of", "reason", "rows_quarantined", "share", "examples"]]
    return {
        "batches": batches.reset_index(drop=True),
        "reasons": reasons.reset_index(drop=True),
        "quarantined": operations.quarantined_rows(store_path),
    }


# ---------------------------------------------------------------- Segments & bias


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner="Comparing segments…")
def segment_view(store_path: str, version: float, as_of: date) -> pd.DataFrame:
    """The segment table as of a day (core.monitor.segments.segment_table, stored by core.views.stored)."""
    return stored.segment_view(as_of, store_path)


# ---------------------------------------------------------------- Benefits


@st.cache_data(ttl=TTL_S, max_entries=8, show_spinner="Building the benefit ledger…")
def benefits_view(store_path: str, version: float, as_of: date) -> dict[str, Any]:
    """The ledger (ISO week × metric), the holdout comparison, go-live and the assumption history, as of a day
    (stored by core.views.stored)."""
    return stored.benefits_view(as_of, store_path)


def ledger_pivot(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger as metric rows × ISO week columns (values), with the target beside; money is shown with its
    interval apart (`benefit_figures.weekly_money`)."""
    if ledger.empty:
        return pd.DataFrame()
    grid = ledger.pivot_table(index="metric", columns="iso_week", values="value", aggfunc="first", sort=False)
    targets = ledger.drop_duplicates("metric").set_index("metric")[["unit", "target"]]
    grid = targets.join(grid).reindex([m for m in benefits.LEDGER_METRICS if m not in benefit_figures.MONEY_METRICS])
    return grid.reset_index()


def save_benefit_settings(
    user: roles.User, costs: Mapping[str, Any], targets: Mapping[str, Any], reason: str, store_path: str
) -> None:
    """The Benefits form's handler: refused unless the role may edit assumptions; saves both with history."""
    roles.require(user, "edit_assumptions")
    assumptions.save_assumptions(costs, actor=user.actor, reason=reason, store_path=store_path)
    assumptions.save_targets(targets, actor=user.actor, reason=reason, store_path=store_path)


def settings_now(store_path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The current cost assumptions and targets as plain dicts (for the edit form)."""
    return asdict(assumptions.load_assumptions(store_path)), asdict(assumptions.load_targets(store_path))


# ---------------------------------------------------------------- Operations


@st.cache_data(ttl=30, max_entries=8, show_spinner="Reading job runs…")
def operations_view(store_path: str, version: float) -> dict[str, Any]:
    """Job runs per kind, the latest runs, the store's size and the open alerts."""
    return {
        "summary": operations.job_summary(store_path),
        "recent": runs.recent_runs(store_path=store_path),
        "size": operations.store_size(store_path),
        "alerts": _as_days(alert_store.read_alerts(None, store_path, status="open"), "as_of"),
    }


def acknowledge_alert(user: roles.User, alert_id: str, store_path: str) -> None:
    """The Operations page's handler: refused unless the role may acknowledge alerts."""
    roles.require(user, "acknowledge_alert")
    alert_store.set_alert_status(alert_id, "acknowledged", store_path)
    activity.record_activity(user, "acknowledge_alert", alert_id, "acknowledged", store_path)


def api_tokens(user: roles.User, store_path: str) -> pd.DataFrame:
    """Grain: API token — id, holder, role, created and revoked (never the hash); admins only."""
    roles.require(user, "manage_tokens")
    records = [record.to_dict() for record in auth.list_tokens(store_path)]
    return pd.DataFrame(records, columns=["token_id", "name", "role", "created_at", "revoked_at"])


def revoke_api_token(user: roles.User, token_id: str, store_path: str) -> None:
    """The Operations page's handler: an admin ends an API token; the activity log keeps who did."""
    roles.require(user, "manage_tokens")
    revoked = auth.revoke_token(token_id, store_path)
    activity.record_activity(user, "revoke_token", token_id, f"{revoked.role} token of {revoked.name}", store_path)


def activity_table(store_path: str) -> pd.DataFrame:
    """Grain: dashboard action — the latest alert acknowledgements, exports and token revocations."""
    return activity.read_activity(None, store_path, limit=50)
