"""Process insights over the store: stage dwell times, weekly bottlenecks, work in progress, paths.

Works on the simulated order world and on an imported real log alike: a "stage" is whatever
activity an event names. Every function reads a window of days, from `start` (inclusive, None for
the first event) to `as_of` (inclusive), and sees only events before the end of `as_of`, so a
figure for an earlier day is what the page would have shown on that day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import Any

import duckdb
import pandas as pd

from core import domain, store
from core.config import StorePath

# An activity of an imported log ends its case when it is the last event in this share of its
# occurrences ("Closed" in the helpdesk log is last in 99.96% of them).
END_STAGE_MIN_LAST_SHARE = 0.9
TOP_PATHS = 10
# A week's median over fewer dwells than this is too noisy to compare with the usual one.
MIN_DWELLS_FOR_COMPARISON = 5


DWELL_COLUMNS = [
    "stage",
    "dwells",
    "p05_h",
    "p25_h",
    "median_h",
    "p75_h",
    "p95_h",
    "mean_h",
    "total_h",
    "mean_position",
]


def window_bounds(start: date | None, as_of: date) -> tuple[datetime, datetime]:
    """The window [start_at, end_at) in store time (UTC, naive) for days start..as_of inclusive."""
    if start is not None and start > as_of:
        raise ValueError(f"the window starts on {start}, after its as-of day {as_of}; pick an earlier start")
    end_at = domain.end_of_day(as_of)
    start_at = datetime.combine(start, time()) if start is not None else datetime(1970, 1, 1)
    return start_at, end_at


def load_event_span(path: StorePath = None) -> tuple[date, date] | None:
    """First and last day with an event, or None when the store holds no events."""
    status = store.read_status(path)
    if status["first_event_at"] is None:
        return None
    first = pd.Timestamp(status["first_event_at"]).date()
    last = pd.Timestamp(status["last_event_at"]).date()
    return first, last


@contextmanager
def process_tables(start: date | None, as_of: date, path: StorePath = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection holding the temp tables every figure here reads: ins_sequenced (the
    events before the end of as_of, in case order, sorted once) and ins_cases (one row per case)."""
    start_at, end_at = window_bounds(start, as_of)
    with store.connect(path, read_only=True) as con:
        con.execute(store.load_sql("insights_sequenced"), {"end_at": end_at})
        con.execute(store.load_sql("insights_cases"), {"start_at": start_at})
        yield con


def _query(con: duckdb.DuckDBPyConnection, sql_name: str, params: dict[str, Any]) -> pd.DataFrame:
    return con.execute(store.load_sql(sql_name), params).df()


def _end_stages(con: duckdb.DuckDBPyConnection) -> list[str]:
    params = {
        "terminal": list(domain.TERMINAL),
        "known": sorted(domain.KNOWN_STAGES),
        "min_last_share": END_STAGE_MIN_LAST_SHARE,
    }
    return _query(con, "insights_end_stages", params)["stage"].tolist()


def load_end_stages(as_of: date, path: StorePath = None) -> list[str]:
    """Stages that end a case: the world's terminal stages, or the closing activities of a real log."""
    with process_tables(None, as_of, path) as con:
        return _end_stages(con)


def _start_at(start: date | None, as_of: date) -> datetime:
    return window_bounds(start, as_of)[0]


def order_stages(dwell_stats: pd.DataFrame) -> list[str]:
    """Stages in reading order: the world's journey order first, then others by mean position in a case."""
    rank = {stage: i for i, stage in enumerate(domain.STAGES + domain.EXCEPTIONS + (domain.CANCELLED,))}
    keyed = dwell_stats.assign(
        known_rank=dwell_stats["stage"].map(rank).fillna(len(rank)),
    ).sort_values(["known_rank", "mean_position", "stage"])
    return keyed["stage"].tolist()


def _dwell_stats(con: duckdb.DuckDBPyConnection, start: date | None, as_of: date) -> pd.DataFrame:
    dwell_stats = _query(con, "insights_dwell_stats", {"start_at": _start_at(start, as_of)})
    order = order_stages(dwell_stats)
    return dwell_stats.set_index("stage").loc[order].reset_index()[DWELL_COLUMNS]


def load_dwell_stats(start: date | None, as_of: date, path: StorePath = None) -> pd.DataFrame:
    """Dwell-time distribution per stage (count, p05/p25/median/p75/p95, mean, total hours), in stage order."""
    with process_tables(start, as_of, path) as con:
        return _dwell_stats(con, start, as_of)


def _weekly_waiting(con: duckdb.DuckDBPyConnection, start: date | None, as_of: date) -> pd.DataFrame:
    return _query(con, "insights_weekly_waiting", {"start_at": _start_at(start, as_of)})


def load_weekly_waiting(start: date | None, as_of: date, path: StorePath = None) -> pd.DataFrame:
    """Finished dwells per ISO week (of entering the stage) and stage: count, median and total hours."""
    with process_tables(start, as_of, path) as con:
        return _weekly_waiting(con, start, as_of)


def find_bottlenecks(weekly_waiting: pd.DataFrame) -> pd.DataFrame:
    """Per ISO week, the bottleneck: the stage where cases spent the most hours in total.

    Total hours (cases × their dwell) weighs both how many cases wait and how long; ties go to the
    stage named first. `share_pct` is that stage's part of all waiting hours of the week.
    """
    columns = ["week_start", "iso_week", "stage", "total_h", "share_pct", "median_h", "dwells"]
    if weekly_waiting.empty:
        return pd.DataFrame(columns=columns)
    week_total_h = weekly_waiting.groupby("week_start")["total_h"].transform("sum")
    ranked = weekly_waiting.assign(
        share_pct=100.0 * weekly_waiting["total_h"] / week_total_h.where(week_total_h > 0)
    ).sort_values(["week_start", "total_h", "stage"], ascending=[True, False, True])
    bottlenecks = ranked.drop_duplicates("week_start", keep="first")
    return bottlenecks[columns].reset_index(drop=True)


def compare_weeks_to_usual(weekly_waiting: pd.DataFrame, dwell_stats: pd.DataFrame) -> pd.DataFrame:
    """Each week's median dwell per stage against the stage's median over the whole window.

    `vs_usual_ratio` > 1 means slower than usual; it is NaN when the week has fewer than
    MIN_DWELLS_FOR_COMPARISON dwells in the stage or the usual median is zero.
    """
    usual_median_h = dwell_stats.set_index("stage")["median_h"]
    compared = weekly_waiting[["week_start", "iso_week", "stage", "dwells", "median_h"]].copy()
    compared["usual_median_h"] = compared["stage"].map(usual_median_h).astype(float)
    comparable = (compared["dwells"] >= MIN_DWELLS_FOR_COMPARISON) & (compared["usual_median_h"] > 0)
    compared["vs_usual_ratio"] = (compared["median_h"] / compared["usual_median_h"]).where(comparable)
    return compared.reset_index(drop=True)


def load_wip_by_day(
    start: date | None, as_of: date, path: StorePath = None, end_stages: list[str] | None = None
) -> pd.DataFrame:
    """Cases in each stage at the end of each day of the window (day × stage, zero rows omitted)."""
    if start is None:
        span = load_event_span(path)
        if span is None:
            return pd.DataFrame(columns=["day", "stage", "cases"])
        start = span[0]
    with process_tables(start, as_of, path) as con:
        return _wip_by_day(con, start, as_of, _end_stages(con) if end_stages is None else end_stages)


def _wip_by_day(con: duckdb.DuckDBPyConnection, start: date, as_of: date, end_stages: list[str]) -> pd.DataFrame:
    start_at, end_at = window_bounds(start, as_of)
    wip = _query(con, "insights_wip_daily", {"start_at": start_at, "end_at": end_at, "end_stages": end_stages})
    wip["day"] = pd.to_datetime(wip["day"]).dt.date
    return wip


def load_top_paths(
    start: date | None,
    as_of: date,
    path: StorePath = None,
    end_stages: list[str] | None = None,
    top: int = TOP_PATHS,
) -> pd.DataFrame:
    """The `top` most common paths of cases that ended in the window: count, share, median journey days,
    and `distinct_paths`, how many different paths those cases took in all."""
    with process_tables(start, as_of, path) as con:
        return _top_paths(con, start, as_of, _end_stages(con) if end_stages is None else end_stages, top)


def _top_paths(
    con: duckdb.DuckDBPyConnection, start: date | None, as_of: date, end_stages: list[str], top: int = TOP_PATHS
) -> pd.DataFrame:
    params = {"start_at": _start_at(start, as_of), "end_stages": end_stages, "top": top}
    return _query(con, "insights_top_paths", params)


def load_kpis(
    start: date | None, as_of: date, path: StorePath = None, end_stages: list[str] | None = None
) -> dict[str, float | int | None]:
    """Headline figures: active cases, events, open and ended cases, median/p90 journey days."""
    with process_tables(start, as_of, path) as con:
        return _kpis(con, start, as_of, _end_stages(con) if end_stages is None else end_stages)


def _kpis(
    con: duckdb.DuckDBPyConnection, start: date | None, as_of: date, end_stages: list[str]
) -> dict[str, float | int | None]:
    params = {"start_at": _start_at(start, as_of), "end_stages": end_stages}
    row = _query(con, "insights_kpis", params).iloc[0]
    kpis: dict[str, float | int | None] = {
        key: int(row[key]) for key in ("active_cases", "events", "open_cases", "ended_cases")
    }
    for key in ("median_journey_days", "p90_journey_days"):
        kpis[key] = None if pd.isna(row[key]) else float(row[key])
    return kpis


def load_process_view(start: date, as_of: date, path: StorePath = None) -> dict[str, Any]:
    """Every figure of the Process insights page for one window, from one connection (the events
    sorted once): end stages, KPIs, dwell stats, weekly waiting and its bottlenecks and comparison to
    the usual, work in progress per day and the top paths."""
    with process_tables(start, as_of, path) as con:
        end_stages = _end_stages(con)
        weekly_waiting = _weekly_waiting(con, start, as_of)
        dwell_stats = _dwell_stats(con, start, as_of)
        top_paths = _top_paths(con, start, as_of, end_stages)
        kpis = _kpis(con, start, as_of, end_stages)
        wip = _wip_by_day(con, start, as_of, end_stages)
    return {
        "end_stages": end_stages,
        "kpis": kpis,
        "dwell_stats": dwell_stats,
        "stage_order": dwell_stats["stage"].tolist(),
        "weekly_waiting": weekly_waiting,
        "bottlenecks": find_bottlenecks(weekly_waiting),
        "weeks_vs_usual": compare_weeks_to_usual(weekly_waiting, dwell_stats),
        "wip": wip,
        "top_paths": top_paths,
        "distinct_paths": int(top_paths["distinct_paths"].max()) if len(top_paths) else 0,
    }
