"""Benefit money figures as they are shown: each with its bootstrap 95% interval and a word saying
whether it is significant, computed once here so the Benefits page, the weekly report and
`benefits --json` show the same number, interval and word.

The interval comes from the holdout comparison (`triage_effect`): orders resampled within each arm.
The baseline part of a week's value (contacts, SLA breaches and promise days against the pre-model
rates) is a difference of counts with no sampling interval computed, so a total's interval is its
baseline part plus the triage part's interval, as the ledger builds it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from core.monitor.triage_effect import ALL_WEEKS

SIGNIFICANT = "significant"
NOT_SIGNIFICANT = "not significant"
NO_INTERVAL = "no interval yet"  # fewer than 2 orders in an arm: nothing to resample

# The money figures of the ledger that carry an interval (the others are counts and rates).
MONEY_METRICS: tuple[str, ...] = ("triage_value_eur", "total_value_eur")

# The money parts measured against the pre-model baseline (no interval), summed into a realised value.
BASELINE_MONEY_METRICS: tuple[str, ...] = ("contacts_per_1000_orders", "sla_breach_pct", "extra_promised_days")


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def significance(ci_low: Any, ci_high: Any) -> str:
    """'significant' when the 95% interval excludes 0, 'not significant' when it holds 0, else 'no interval yet'."""
    low, high = _number(ci_low), _number(ci_high)
    if low is None or high is None:
        return NO_INTERVAL
    return SIGNIFICANT if low > 0 or high < 0 else NOT_SIGNIFICANT


def eur(value: float | None) -> str:
    """Whole euros with a true minus sign, or a dash."""
    if value is None:
        return "—"
    rounded = round(value)
    return f"−€{-rounded:,.0f}" if rounded < 0 else f"€{rounded:,.0f}"


@dataclass(frozen=True)
class MoneyFigure:
    """One money figure with its bootstrap 95% interval (None where there is none)."""

    name: str
    value_eur: float | None
    ci_low_eur: float | None
    ci_high_eur: float | None

    @property
    def significance(self) -> str:
        """Whether the interval excludes 0 (see `significance`)."""
        return significance(self.ci_low_eur, self.ci_high_eur)

    @property
    def interval(self) -> str:
        """The interval as shown: '95% CI −€738 to €9,615', or the word saying there is none."""
        if self.ci_low_eur is None or self.ci_high_eur is None:
            return NO_INTERVAL
        return f"95% CI {eur(self.ci_low_eur)} to {eur(self.ci_high_eur)}"

    @property
    def detail(self) -> str:
        """What goes beside the value: '95% CI −€738 to €9,615, not significant', or 'no interval yet'."""
        if self.ci_low_eur is None or self.ci_high_eur is None:
            return NO_INTERVAL
        return f"{self.interval}, {self.significance}"

    @property
    def text(self) -> str:
        """Value, interval and significance in one line: '€4,381 (95% CI −€738 to €9,615, not significant)'."""
        return "—" if self.value_eur is None else f"{eur(self.value_eur)} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the significance word and the text shown."""
        return {**asdict(self), "significance": self.significance, "text": self.text}


def money_figure(name: str, value: Any, ci_low: Any, ci_high: Any) -> MoneyFigure:
    """A MoneyFigure from possibly missing numbers (NaN, NA and None are 'none')."""
    return MoneyFigure(name, _number(value), _number(ci_low), _number(ci_high))


def headline_figures(ledger: pd.DataFrame, holdout: pd.DataFrame) -> dict[str, MoneyFigure]:
    """The Benefits page's headline money, with intervals.

    - `triage_value_eur`: treated against held out over all weeks (the holdout's 'all' row);
    - `realised_value_eur`: the live weeks' baseline money summed, plus that triage value; its interval
      is the baseline money plus the triage value's interval (the baseline part has none).
    """
    triage = money_figure("triage_value_eur", None, None, None)
    if not holdout.empty:
        rows = holdout.loc[(holdout["iso_week"] == ALL_WEEKS) & (holdout["metric"] == "triage_value_eur")]
        if len(rows):
            row = rows.iloc[0]
            triage = money_figure(
                "triage_value_eur", row["value_eur"], row["value_ci_low_eur"], row["value_ci_high_eur"]
            )
    live = (
        ledger.loc[(ledger["period"] == "live") & ledger["metric"].isin(BASELINE_MONEY_METRICS)]
        if len(ledger)
        else ledger
    )
    baseline = _number(live["value_eur"].sum(min_count=1)) if len(live) else None
    parts = [v for v in (baseline, triage.value_eur) if v is not None]
    extra = baseline or 0.0
    realised = MoneyFigure(
        "realised_value_eur",
        sum(parts) if parts else None,
        None if triage.ci_low_eur is None else extra + triage.ci_low_eur,
        None if triage.ci_high_eur is None else extra + triage.ci_high_eur,
    )
    return {"realised_value_eur": realised, "triage_value_eur": triage}


def weekly_money(ledger: pd.DataFrame) -> pd.DataFrame:
    """Grain: live ISO week × money figure — value, its 95% interval, significance and the text shown."""
    columns = ["iso_week", "metric", "value_eur", "ci_low_eur", "ci_high_eur", "significance", "shown"]
    if ledger.empty:
        return pd.DataFrame(columns=columns)
    rows = ledger.loc[(ledger["period"] == "live") & ledger["metric"].isin(MONEY_METRICS)]
    figures = [
        money_figure(str(r["metric"]), r["value_eur"], r["value_ci_low_eur"], r["value_ci_high_eur"])
        for r in rows.to_dict("records")
    ]
    return pd.DataFrame(
        {
            "iso_week": rows["iso_week"].to_numpy(),
            "metric": [f.name for f in figures],
            "value_eur": [f.value_eur for f in figures],
            "ci_low_eur": [f.ci_low_eur for f in figures],
            "ci_high_eur": [f.ci_high_eur for f in figures],
            "significance": [f.significance for f in figures],
            "shown": [f.text for f in figures],
        },
        columns=columns,
    )


def headline_sentence(ledger: pd.DataFrame) -> str:
    """The benefits owner's answer in one sentence, from the latest live week's triage value (the list
    against its held-out orders): "The list saved between €X and €Y in week W; not yet significant."."""
    weekly = weekly_money(ledger)
    triage = weekly.loc[weekly["metric"] == "triage_value_eur"].dropna(subset=["value_eur"])
    if triage.empty:
        return "No live week with held-out orders yet: what the list saves shows here from its first week."
    row = triage.iloc[-1]
    week = str(row["iso_week"])
    figure = money_figure("triage_value_eur", row["value_eur"], row["ci_low_eur"], row["ci_high_eur"])
    if figure.significance == NO_INTERVAL:
        return f"The list saved {eur(figure.value_eur)} in week {week}; no interval yet (too few held-out orders)."
    low, high = eur(figure.ci_low_eur), eur(figure.ci_high_eur)
    word = "significant" if figure.significance == SIGNIFICANT else "not yet significant"
    return f"The list saved between {low} and {high} in week {week}; {word}."
