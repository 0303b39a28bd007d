"""Materialised views of the heavy dashboard pages (Forecast accuracy, Segments & bias, Benefits,
Process insights).

Each of these pages re-derives its figures from the whole history, which takes many seconds on a
store of a million orders. The daily job (`refresh`) leaves the views of the latest day ready as
files beside the store; a page reads them back when nothing they were computed from has changed
since (`inputs_fingerprint`), and otherwise computes live, as before, and writes the result back.

How the files are laid out, written and read back lives in `views.view_files`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from core import logs
from core.config import StorePath
from core.domain import SEGMENT_COLUMNS
from core.monitor import accuracy, assumptions, benefits, segments
from core.views import insights, today
from core.views.view_files import inputs_fingerprint, materialised, store_view

log = logs.get_logger("views")


# ---------------------------------------------------------------- live computations


def _as_days(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.date}) if len(frame) else frame


def load_outcomes(as_of: date, store_path: StorePath = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scored forecasts and listings as of the end of a day (what accuracy and segments read)."""
    at = accuracy.resolve_as_of(as_of, store_path)
    return (accuracy.load_forecast_outcomes(store_path, as_of=at), accuracy.load_listing_outcomes(store_path, as_of=at))


def compose_accuracy(scored: pd.DataFrame, listings: pd.DataFrame, segment: str) -> dict[str, Any]:
    """The Forecast accuracy page's view from scored forecasts and listings, broken down by `segment`."""
    return {
        "forecasts": len(scored),
        "forecast": accuracy.realised_row(accuracy.summarise_forecasts(scored)),
        "triage": accuracy.realised_row(accuracy.summarise_listings(listings)),
        # mornings as days: a table shows 2026-03-02, not 2026-03-02 00:00:00
        "daily": _as_days(accuracy.summarise_forecasts(scored, by=["as_of_date"])),
        "triage_daily": _as_days(accuracy.summarise_listings(listings, by=["as_of_date"])),
        "by_segment": accuracy.summarise_forecasts(scored, by=[segment]),
    }


def compute_today_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Today page's figures of a run day as a record (core.views.today.load_today, live); {} without a run."""
    figures = today.load_today(as_of, store_path)
    return {"figures": {} if figures is None else asdict(figures)}


def compute_accuracy_view(as_of: date, segment: str, store_path: StorePath = None) -> dict[str, Any]:
    """Forecast and triage accuracy as of a day: overall, per morning, per level of `segment` (live)."""
    return compose_accuracy(*load_outcomes(as_of, store_path), segment)


def compute_segment_view(as_of: date, store_path: StorePath = None) -> pd.DataFrame:
    """The segment table as of a day (core.monitor.segments.segment_table, live)."""
    return segments.segment_table(store_path, as_of=as_of)


def compute_benefits_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The ledger, the holdout comparison, go-live and the cost assumption history as of a day (live)."""
    ledger, holdout = benefits.ledger_and_holdout(store_path, as_of=as_of)
    return {
        "go_live": benefits.go_live_date(store_path),
        "ledger": ledger,
        "holdout": holdout,
        "history": assumptions.assumption_history("costs", store_path),
    }


def compute_process_view(start: date, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """Everything the Process insights page shows for one window (core.views.insights, live)."""
    return insights.load_process_view(start, as_of, store_path)


# ---------------------------------------------------------------- the views pages read


def _today_figures(record: Mapping[str, Any]) -> today.TodayFigures | None:
    if not record:
        return None
    last_event_at = record["last_event_at"]
    if last_event_at is not None and not isinstance(last_event_at, datetime):
        last_event_at = None if pd.isna(last_event_at) else pd.Timestamp(last_event_at).to_pydatetime()
    elif isinstance(last_event_at, pd.Timestamp):
        last_event_at = last_event_at.to_pydatetime()
    fields = {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in record.items()}
    return today.TodayFigures(**{**fields, "last_event_at": last_event_at})


def today_view(as_of: date, store_path: StorePath = None) -> today.TodayFigures | None:
    """The Today page's figures of a run day (as `core.views.today.load_today`), stored when current."""
    view = materialised("today", {"as_of": as_of}, lambda _: compute_today_view(as_of, store_path), store_path)
    return _today_figures(view["figures"])


def accuracy_view(as_of: date, segment: str, store_path: StorePath = None) -> dict[str, Any]:
    """The Forecast accuracy page's view (as `compute_accuracy_view`), stored when current."""

    def compute(fingerprint: str) -> dict[str, Any]:
        # the outcomes are the expensive part: store the view of every segment from one read
        started = time.perf_counter()
        scored, listings = load_outcomes(as_of, store_path)
        views = {s: compose_accuracy(scored, listings, s) for s in {*SEGMENT_COLUMNS, segment}}
        seconds = time.perf_counter() - started
        for other, parts in views.items():
            if other != segment and fingerprint:
                store_view("accuracy", {"as_of": as_of, "segment": other}, parts, fingerprint, seconds, store_path)
        return views[segment]

    return materialised("accuracy", {"as_of": as_of, "segment": segment}, compute, store_path)


def segment_view(as_of: date, store_path: StorePath = None) -> pd.DataFrame:
    """The Segments & bias page's table (as `compute_segment_view`), stored when current."""
    view = materialised(
        "segments", {"as_of": as_of}, lambda _: {"table": compute_segment_view(as_of, store_path)}, store_path
    )
    return view["table"]


def benefits_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Benefits page's view (as `compute_benefits_view`), stored when current."""
    return materialised("benefits", {"as_of": as_of}, lambda _: compute_benefits_view(as_of, store_path), store_path)


def process_view(start: date, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Process insights page's view (as `compute_process_view`), stored when current."""
    return materialised(
        "process",
        {"start": start, "as_of": as_of},
        lambda _: compute_process_view(start, as_of, store_path),
        store_path,
    )


# ---------------------------------------------------------------- refresh (the daily job's part)


def default_views(as_of: date | None = None, store_path: StorePath = None) -> list[tuple[str, dict[str, Any]]]:
    """(view, params) of every view a page opens with by default, as of `as_of` (default: the
    latest day with events, the pages' default); empty for a store without events."""
    span = insights.load_event_span(store_path)
    if span is None:
        return []
    first_day, last_day = span
    day = as_of or last_day
    wanted: list[tuple[str, dict[str, Any]]] = []
    # Today opens on the newest run day (here: on or before as_of)
    run_days = [d for d in today.run_days(store_path) if d <= day]
    if run_days:
        wanted.append(("today", {"as_of": max(run_days)}))
    wanted += [("accuracy", {"as_of": day, "segment": s}) for s in SEGMENT_COLUMNS]
    wanted += [
        ("segments", {"as_of": day}),
        ("benefits", {"as_of": day}),
        # Process insights opens on the whole history: the first day with events up to as-of (an
        # as-of before the first event gives an empty window, not an error)
        ("process", {"start": min(first_day, day), "as_of": day}),
    ]
    return wanted


def refresh(store_path: StorePath = None, as_of: date | None = None, *, progress: bool = False) -> dict[str, float]:
    """Compute and store every default view as of a day (default: the latest); seconds per view."""
    from tqdm import tqdm

    wanted = default_views(as_of, store_path)
    fingerprint = inputs_fingerprint(store_path)
    seconds: dict[str, float] = {}
    outcomes: tuple[pd.DataFrame, pd.DataFrame] | None = None
    for view, params in tqdm(wanted, desc="views", unit="view", file=sys.stderr, disable=not progress):
        started = time.perf_counter()
        day = params["as_of"]
        if view in ("accuracy", "segments"):
            # both read the same outcomes: load them once for all of them
            if outcomes is None:
                outcomes = load_outcomes(day, store_path)
            scored, listings = outcomes
            parts = (
                compose_accuracy(scored, listings, params["segment"])
                if view == "accuracy"
                else {"table": segments.segment_metrics(scored, listings)}
            )
        elif view == "benefits":
            parts = compute_benefits_view(day, store_path)
        elif view == "today":
            parts = compute_today_view(day, store_path)
        else:
            parts = compute_process_view(params["start"], day, store_path)
        took = time.perf_counter() - started
        store_view(view, params, parts, fingerprint, took, store_path)
        label = f"{view}:{params['segment']}" if view == "accuracy" else view
        seconds[label] = round(took, 3)
    return seconds


def refresh_quietly(
    store_path: StorePath = None, as_of: date | None = None, *, progress: bool = False
) -> dict[str, float] | None:
    """`refresh` for the end of a daily job: a failure is logged, never raised (pages then compute live)."""
    try:
        return refresh(store_path, as_of, progress=progress)
    except Exception:  # noqa: BLE001 - the views are a cache; the daily job must not fail on them
        log.exception("refreshing the page views failed; the pages will compute live")
        return None
