"""Alerts: rules as data, evaluated over the day's monitor results (stored by `alert_store`, posted by
`alert_delivery`).

`results` is a plain dict the daily job fills with what it has; a rule whose input is absent is
skipped. Keys (all optional except `as_of`):

- `as_of`: the day (date);
- `drift`: the per-column drift table (a `DriftResult`, a DataFrame or a list of dicts, columns as
  in `drift.RESULT_COLUMNS`);
- `validity`: the batch summary of `validity.summarise_validity`;
- `feed`: `{"last_event_at": datetime | None, "as_of_at": datetime}`;
- `jobs`: `[{"kind", "run_id", "status", "error"}]` (runs with status `failed` alert);
- `accuracy`: `{"mae_days", "reference_mae_days", "subject"?}` on matured forecasts;
- `coverage`: `{"coverage", "nominal", "subject"?}` of the forecast interval (shares 0..1);
- `benefit`: `{"realised", "target", "subject"?, "unit"?, "period"?}`, or a list of them (one alert subject each).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from core import domain
from core.errors import ConfigError
from core.monitor import alert_figures
from core.monitor.alert_types import SEVERITIES as SEVERITIES
from core.monitor.alert_types import STATUSES as STATUSES
from core.monitor.alert_types import Alert as Alert
from core.monitor.alert_types import Rule as Rule
from core.monitor.alert_types import pct as _pct
from core.monitor.drift import DriftResult

METHOD_NAMES = {
    "wasserstein": "Wasserstein distance (normed)",
    "jensenshannon": "Jensen-Shannon distance",
}


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "feature_drift",
        "warning",
        None,
        "a model feature's distribution drifted from the reference (per-column thresholds: MonitorSettings)",
    ),
    Rule("drift_share", "critical", 0.3, "the share of judged features that drifted is above the threshold"),
    Rule("prediction_drift", "warning", None, "the distribution of a model output drifted from the reference"),
    Rule(
        "missing_rate_jump",
        "warning",
        None,
        "a column's missing rate rose materially and beyond sampling noise (MonitorSettings)",
    ),
    Rule(
        "new_category",
        "warning",
        None,
        "a categorical column holds values never seen in the reference, in a material share",
    ),
    Rule(
        "feature_invalid",
        "critical",
        None,
        "a column could not be checked: missing, all values missing, or text where numbers belong",
    ),
    Rule("validity_failures", "critical", 0.01, "the quarantined share of the day's batch is above the threshold"),
    Rule("stale_feed", "critical", 24.0, "no events for more than the threshold (hours) before the as-of instant"),
    Rule("job_failed", "critical", None, "a job run failed"),
    Rule(
        "accuracy_decay",
        "warning",
        0.2,
        "MAE on matured forecasts is above the champion's reference MAE by more than the threshold (relative)",
    ),
    Rule(
        "coverage_decay",
        "warning",
        0.1,
        "interval coverage is below its nominal level by more than the threshold (absolute)",
    ),
    Rule("benefit_under_target", "warning", 0.9, "realised benefit is below the threshold share of its target"),
)


# The rules whose alert's subject is one compared column (the Drift page shows that column on that day).
COLUMN_RULES: frozenset[str] = frozenset(
    {"feature_drift", "prediction_drift", "missing_rate_jump", "new_category", "feature_invalid"}
)


def drift_cell(rule: str, subject: str, as_of: date | str) -> tuple[date, str] | None:
    """The (day, column) of the drift results an alert is about; None when its subject is not a column."""
    if rule not in COLUMN_RULES or not subject:
        return None
    return pd.Timestamp(as_of).date(), subject


def _drift_rows(results: Mapping[str, Any]) -> pd.DataFrame | None:
    table = results.get("drift")
    if table is None:
        return None
    if isinstance(table, DriftResult):
        return table.columns
    return table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))


def _flag(series: pd.Series) -> pd.Series:
    # Verdicts are null where a column was not judged; null counts as "did not fire".
    return series.astype("boolean").fillna(False).astype(bool)


def _describe_score(row: Mapping[str, Any]) -> str:
    method = METHOD_NAMES.get(str(row["method"]), str(row["method"]))
    return (
        f"{method} {row['score']:.3f} reached the threshold {row['threshold']:.3f} "
        f"({int(row['rows_cur']):,} rows against {int(row['rows_ref']):,} reference rows)"
    )


def _column_drift(role: str, what: str) -> Callable[[Rule, Mapping[str, Any], date], list[Alert]]:
    def evaluate(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
        table = _drift_rows(results)
        if table is None or table.empty:
            return []
        hits = table[(table["role"] == role) & _flag(table["drifted"])]
        return [
            Alert(
                as_of,
                rule.name,
                rule.severity,
                str(row["column"]),
                f"{what} '{row['column']}' drifted: {_describe_score(row)}",
                float(row["score"]),
                float(row["threshold"]),
            )
            for row in hits.to_dict("records")
        ]

    return evaluate


def _drift_share(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    table = _drift_rows(results)
    if table is None or table.empty or rule.threshold is None:
        return []
    judged = table[(table["role"] == "feature") & table["status"].isin(["ok", "drifted"])]
    if judged.empty:
        return []
    drifted = judged[judged["status"] == "drifted"]
    share = len(drifted) / len(judged)
    if share <= rule.threshold:
        return []
    names = ", ".join(drifted["column"].astype(str))
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            "features",
            f"{len(drifted)} of {len(judged)} features drifted ({_pct(share)}), above the "
            f"{_pct(rule.threshold)} threshold: {names}",
            share,
            rule.threshold,
        )
    ]


def _missing_rate_jump(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    table = _drift_rows(results)
    if table is None or table.empty:
        return []
    hits = table[_flag(table["missing_rate_jumped"])]
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            str(row["column"]),
            f"missing values in '{row['column']}' rose from {_pct(row['missing_rate_ref'])} of reference rows "
            f"to {_pct(row['missing_rate_cur'])} of the batch's {int(row['rows_cur']):,} rows",
            float(row["missing_rate_cur"] - row["missing_rate_ref"]),
            rule.threshold,
        )
        for row in hits.to_dict("records")
    ]


def _new_category(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    table = _drift_rows(results)
    if table is None or table.empty:
        return []
    hits = table[table["new_categories"].map(lambda values: len(values) > 0)]
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            str(row["column"]),
            f"'{row['column']}' has values never seen in the reference: "
            f"{', '.join(repr(str(v)) for v in row['new_categories'])} "
            f"({_pct(row['new_category_share'])} of the batch's non-missing rows)",
            float(row["new_category_share"]),
            rule.threshold,
        )
        for row in hits.to_dict("records")
    ]


def _feature_invalid(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    table = _drift_rows(results)
    if table is None or table.empty:
        return []
    hits = table[table["status"] == "invalid"]
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            str(row["column"]),
            f"{row['role']} '{row['column']}' could not be checked: {row['note']}",
        )
        for row in hits.to_dict("records")
    ]


def _validity_failures(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    summary = results.get("validity")
    if not summary or rule.threshold is None or summary["quarantined_share"] <= rule.threshold:
        return []
    top = "; ".join(f"{r['reason']} ({r['rows_quarantined']:,})" for r in summary["reasons"][:3])
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            "batch",
            f"{summary['rows_quarantined']:,} of {summary['rows_total']:,} rows "
            f"({_pct(summary['quarantined_share'])}) were quarantined, above the "
            f"{_pct(rule.threshold)} threshold; top reasons: {top}",
            float(summary["quarantined_share"]),
            rule.threshold,
        )
    ]


def _stale_feed(rule: Rule, results: Mapping[str, Any], as_of: date) -> list[Alert]:
    feed = results.get("feed")
    if not feed or rule.threshold is None:
        return []
    as_of_at = pd.Timestamp(feed["as_of_at"])
    last = feed.get("last_event_at")
    if last is None or pd.isna(last):
        return [
            Alert(
                as_of,
                rule.name,
                rule.severity,
                "events",
                f"no events at all before as-of {as_of_at:%Y-%m-%d %H:%M} UTC",
                None,
                rule.threshold,
            )
        ]
    gap_h = (as_of_at - pd.Timestamp(last)).total_seconds() / 3600
    if gap_h <= rule.threshold:
        return []
    return [
        Alert(
            as_of,
            rule.name,
            rule.severity,
            "events",
            f"no events for {gap_h:.1f} hours before as-of {as_of_at:%Y-%m-%d %H:%M} UTC "
            f"(last at {pd.Timestamp(last):%Y-%m-%d %H:%M}), above the {rule.threshold:g} h threshold",
            gap_h,
            rule.threshold,
        )
    ]


EVALUATORS: dict[str, Callable[[Rule, Mapping[str, Any], date], list[Alert]]] = {
    "feature_drift": _column_drift("feature", "feature"),
    "prediction_drift": _column_drift("prediction", "prediction"),
    "drift_share": _drift_share,
    "missing_rate_jump": _missing_rate_jump,
    "new_category": _new_category,
    "feature_invalid": _feature_invalid,
    "validity_failures": _validity_failures,
    "stale_feed": _stale_feed,
    "job_failed": alert_figures.job_failed,
    "accuracy_decay": alert_figures.accuracy_decay,
    "coverage_decay": alert_figures.coverage_decay,
    "benefit_under_target": alert_figures.benefit_under_target,
}


def evaluate_rules(results: Mapping[str, Any], rules: Sequence[Rule] = DEFAULT_RULES) -> list[Alert]:
    """The alerts the rules raise over one day's monitor results, in rule order."""
    if "as_of" not in results:
        raise ConfigError("monitor results need an 'as_of' date to evaluate alert rules")
    as_of = pd.Timestamp(results["as_of"]).date()
    unknown = [rule.name for rule in rules if rule.name not in EVALUATORS]
    if unknown:
        raise ConfigError(f"unknown alert rule(s): {', '.join(unknown)}; known rules are {', '.join(EVALUATORS)}")
    return [alert for rule in rules for alert in EVALUATORS[rule.name](rule, results, as_of)]


def parse_day(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD day, or a ConfigError saying what was wrong."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD") from None
    return domain.check_day(day, what)
