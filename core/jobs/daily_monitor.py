"""What the daily run watches: drift of the open orders against the champion's reference sample,
the champion's live accuracy and coverage (the inputs of the decay rules), and the realised benefit
of the last complete live week against its targets (the input of `benefit_under_target`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from core import features, store
from core.config import StorePath
from core.jobs.daily_settings import DailySettings
from core.monitor import accuracy, benefits
from core.monitor import drift as monitor_drift
from core.monitor.alerts import Alert, Rule
from core.registry import versions as registry
from core.scoring import batch, checked_files

# Columns that describe the instant rather than the order (constant within one batch): comparing a
# day's single value with a week of them is not a distribution test, so drift leaves them out.
CALENDAR_COLUMNS: tuple[str, ...] = ("as_of_weekday", "as_of_hour", "as_of_day_of_year")


# Counts of each stage visited restate the path that current_stage, prefix_len and exceptions_so_far
# already watch; leaving them out keeps Evidently's cost (per column) within the daily budget.
SKIPPED_PREFIXES: tuple[str, ...] = (features.ACTIVITY_PREFIX,)


PREDICTION_COLUMNS: tuple[str, ...] = ("p50_h", "stuck_prob")


def drift_columns(
    champion: batch.ServingModels, reference: pd.DataFrame, open_orders: pd.DataFrame
) -> tuple[list[str], list[str]]:
    """(features, categorical) compared for drift: the classifier's inputs present on both sides,
    without calendar columns and columns constant within each reference instant (they describe the day)."""
    categorical, numeric = batch.model_inputs(champion.classifier)
    present = [c for c in categorical + numeric if c in reference.columns and c in open_orders.columns]
    per_instant = reference.groupby("as_of_at")[present].nunique(dropna=False).max() if len(reference) else None
    instant_level = set() if per_instant is None else set(per_instant.index[per_instant <= 1])
    compared = [
        c
        for c in present
        if c not in CALENDAR_COLUMNS and c not in instant_level and not c.startswith(SKIPPED_PREFIXES)
    ]
    return compared, [c for c in compared if c in categorical]


def monitor_day(
    champion: batch.ServingModels | None,
    open_orders: pd.DataFrame,
    scores: pd.DataFrame | None,
    settings: DailySettings,
    store_path: StorePath,
) -> tuple[monitor_drift.DriftResult | None, dict[str, Any]]:
    """The day's drift against the champion's reference, with Evidently's report of it; a reference or
    thresholds file that fails its checksum marks the drift step failed (`drift_failed` in the figures)
    instead of stopping the day, and a report whose scores disagree with the verdicts' is left out
    (`drift_report_failed`; the verdicts stand)."""
    if champion is None or open_orders.empty or scores is None:
        return None, {}
    try:
        reference = batch.load_reference(champion, pd.Timestamp(open_orders["as_of_at"].iloc[0]), store_path)
        if reference.empty:
            return None, {"drift_skipped": "empty reference sample"}
        compared, categorical = drift_columns(champion, reference, open_orders)
        calibrated = batch.load_calibration(
            champion, reference, compared, PREDICTION_COLUMNS, categorical, settings.monitor, store_path
        )
    except checked_files.CheckedFileError as exc:
        return None, {"drift_failed": str(exc)}
    # Only the compared columns: the drift never reads the others, and a join copies every column.
    current = pd.concat([open_orders[compared], scores[list(PREDICTION_COLUMNS)]], axis=1)
    result = monitor_drift.compute_drift(
        reference,
        current,
        compared,
        PREDICTION_COLUMNS,
        categorical=categorical,
        settings=settings.monitor,
        calibrated=calibrated,
    )
    figures: dict[str, Any] = {"drift_columns": len(compared), "reference_rows": len(reference)}
    # Evidently's report of the same rows, for the on-demand HTML: after the verdicts, which never wait for
    # it; a report that disagrees with the verdicts' scores is left out and the step marked failed.
    if not settings.drift_report:
        return result, figures
    try:
        result = monitor_drift.attach_report(result)
    except monitor_drift.DriftReportError as exc:
        figures["drift_report_failed"] = str(exc)
    return result, figures


ACCURACY_WINDOW_DAYS = 14


MIN_MATURED_FORECASTS = 50


# Right after go-live the matured forecasts are the short journeys only (a biased sample: coverage read
# 0.59 on the second day of the demo); decay is judged once the champion has served this long.
MIN_SERVED_DAYS = 10


def accuracy_inputs(
    champion: batch.ServingModels | None, as_of: date, as_of_at: datetime, store_path: StorePath
) -> dict[str, Any]:
    """The accuracy and coverage inputs of the decay rules: matured champion forecasts of the last
    two weeks (the accuracy module) against the champion's own holdout MAE from the registry."""

    if champion is None:
        return {}
    served = store.fetch_df(
        "scoring_served_days",
        {"version": champion.forecaster_version, "as_of_date": as_of},
        store_path,
    )
    if int(served["days"].iloc[0]) < MIN_SERVED_DAYS:
        return {}
    overview = accuracy.accuracy_overview(
        store_path, as_of=as_of_at, since=as_of - timedelta(days=ACCURACY_WINDOW_DAYS)
    )
    forecast = overview["forecast"]
    realised = forecast.get("realised") if isinstance(forecast, dict) else None
    if not realised or (realised.get("forecasts") or 0) < MIN_MATURED_FORECASTS:
        return {}
    subject = champion.forecaster_version
    inputs: dict[str, Any] = {
        "coverage": {
            "coverage": realised["coverage_80_pct"] / 100.0,
            "nominal": 0.8,
            "subject": subject,
        },
    }
    reference_mae = registry.get_version(champion.forecaster_version, store_path).metrics.get("mae_days")
    if reference_mae:
        inputs["accuracy"] = {
            "mae_days": realised["mae_h"] / 24.0,
            "reference_mae_days": float(reference_mae),
            "subject": subject,
        }
    return inputs


# The benefit figures judged against their targets: money, where "under target" is a shortfall.
BENEFIT_SUBJECTS: tuple[str, ...] = ("triage_value_eur", "total_value_eur")


# Only the point figures are read (they do not depend on the resamples); the floor keeps the daily run cheap.
BENEFIT_RESAMPLES = 100


def benefit_inputs(as_of_at: datetime, store_path: StorePath) -> dict[str, Any]:
    """The `benefit` input of the benefit_under_target rule: each money figure of the last complete live
    ISO week (ended by `as_of_at`) beside its weekly target; {} before a live week has ended.

    A week in progress would always read under a weekly target, so the alert holds from the day a week
    ends under target until a later week meets it (or the target changes).
    """
    ledger = benefits.benefit_ledger(store_path, as_of=as_of_at, n_boot=BENEFIT_RESAMPLES)
    if ledger.empty:
        return {}
    week_start = pd.to_datetime(ledger["week_start"])
    ended = ledger.loc[(ledger["period"] == "live") & (week_start + pd.Timedelta(days=7) <= pd.Timestamp(as_of_at))]
    if ended.empty:
        return {}
    last = ended.loc[pd.to_datetime(ended["week_start"]) == pd.to_datetime(ended["week_start"]).max()]
    figures = last.set_index("metric")
    found = [
        {
            "realised": float(figures.loc[metric, "value"]),
            "target": float(figures.loc[metric, "target"]),
            "subject": metric,
            "period": str(figures.loc[metric, "iso_week"]),
            "unit": figures.loc[metric, "unit"],
        }
        for metric in BENEFIT_SUBJECTS
        if metric in figures.index
        and pd.notna(figures.loc[metric, "value"])
        and pd.notna(figures.loc[metric, "target"])
    ]
    return {"benefit": found} if found else {}


def step_alerts(failures: list[dict[str, str]], as_of: date, rules: Sequence[Rule]) -> list[Alert]:
    """A `job_failed` alert per failed step of the day that did not stop it (the shadow model, the drift
    check): one item per step, open while the step keeps failing. None if the rule is switched off."""
    rule = next((r for r in rules if r.name == "job_failed"), None)
    if rule is None:
        return []
    return [
        Alert(
            as_of,
            rule.name,
            "warning" if f["step"] in ("shadow", "drift report") else rule.severity,
            f"daily {f['step']}",
            f"the daily run's {f['step']} step failed and was skipped ({f['subject']}): {f['error']}",
        )
        for f in failures
    ]
