"""What a weekly report holds: its ISO week, its sections in order, and its tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from core import domain
from core.errors import ConfigError, JourneyOpsError

# section key -> title: the sheet name in the workbook and the heading in the HTML, in this order
SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "at_risk": "At-risk lists",
    "forecast_accuracy": "Forecast accuracy",
    "triage_precision": "Triage precision",
    "segments": "Segments",
    "drift": "Drift",
    "data_quality": "Data quality",
    "alerts": "Alerts",
    "benefits": "Benefits",
}


_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class EmptyWeekError(JourneyOpsError):
    """The store holds nothing for the week asked for."""


@dataclass(frozen=True)
class IsoWeek:
    """An ISO week: its label (YYYY-Www) and its Monday and Sunday."""

    label: str
    start: date
    end: date

    @property
    def end_at(self) -> datetime:
        """The end of the week: Sunday's scoring instant (the next midnight, UTC), so Sunday's list counts."""
        return domain.end_of_day(self.end)


@dataclass(frozen=True)
class WeeklyReport:
    """The week's tables, one per section (keys of SECTIONS, plus `daily`: the daily job's record, for the
    drift chart), and the instant outcomes were judged at."""

    week: IsoWeek
    as_of: datetime
    generated_at: datetime
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any] = field(default_factory=dict)  # the summary as plain values, for --json


def parse_week(text: str) -> IsoWeek:
    """An ISO week written YYYY-Www (e.g. 2026-W09), or a ConfigError saying what is wrong."""
    match = _WEEK.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"--week {text!r} is not an ISO week; write it as YYYY-Www, e.g. 2026-W09")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        start = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ConfigError(f"--week {text!r}: {year} has no ISO week {number}; weeks run 01 to 52 or 53") from None
    return IsoWeek(f"{year}-W{number:02d}", start, start + timedelta(days=6))
