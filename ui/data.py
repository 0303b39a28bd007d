"""Cached, read-only reads of the store for the pages.

Streamlit caching lives here, never in core. Every cached read is keyed by the store path, a
version stamp of the store file (so a new ingest or a new day shows fresh data) and the window.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from core import config, store
from core.views import insights, stored

TTL_S = 600


def current_store() -> str:
    """The store the dashboard reads: $JOURNEYOPS_STORE, else data/journeyops.duckdb."""
    return str(config.store_path())


def store_version(store_path: str) -> float:
    """A stamp that changes whenever the store file (or its write-ahead log) changes."""
    stamps = [p.stat().st_mtime_ns for p in (Path(store_path), Path(store_path + ".wal")) if p.exists()]
    return float(max(stamps, default=0))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def read_status(store_path: str, version: float) -> dict[str, object]:
    """Counts and time range of the store (raises StoreMissingError when there is none)."""
    return store.read_status(store_path)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def event_span(store_path: str, version: float) -> tuple[date, date] | None:
    """First and last day with an event, or None for an empty store."""
    return insights.load_event_span(store_path)


@st.cache_data(ttl=TTL_S, max_entries=32, show_spinner="Reading the process…")
def process_insights(store_path: str, version: float, start: date, as_of: date) -> dict[str, object]:
    """Everything the Process insights page shows for one window, read in one go (the daily job's
    stored view when current, core.views.stored)."""
    return stored.process_view(start, as_of, store_path)
