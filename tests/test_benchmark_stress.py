"""Stress variants of the shared logs, built here by code: a 1,000-case subsample, lifecycle words
renamed (with and without start events), attributes removed. Each runs `benchmark-log` with no
flags, says which lifecycle rule it applied, and never does worse than the trivial baseline of the
same run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.ingest import xes
from tests.conftest import SHARED_DATA

CASES = 1000
CASE, ACTIVITY, TIME, LIFECYCLE = "case:concept:name", "concept:name", "time:timestamp", "lifecycle:transition"


def _subsample(events: pd.DataFrame, cases: int = CASES, seed: int = 15) -> pd.DataFrame:
    """`cases` cases drawn at random (over the whole time span), every event of each."""
    ids = events[CASE].drop_duplicates().to_numpy()
    keep = set(np.random.default_rng(seed).choice(ids, size=cases, replace=False))
    return events[events[CASE].isin(keep)].reset_index(drop=True)


@pytest.fixture(scope="module")
def helpdesk() -> pd.DataFrame:
    return _subsample(xes.read_xes(SHARED_DATA / "helpdesk.xes.gz").events)


@pytest.fixture(scope="module")
def declarations() -> pd.DataFrame:
    return _subsample(xes.read_xes(SHARED_DATA / "bpic2020_domestic_declarations.xes.gz").events)


def _renamed(word: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def build(events: pd.DataFrame) -> pd.DataFrame:
        return events.assign(**{LIFECYCLE: word})

    return build


def _with_starts(start: str, end: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Each event becomes a start (an hour earlier, or at the previous event if that is later) and an
    end under other words than `complete`; the start events are written after the ends."""

    def build(events: pd.DataFrame) -> pd.DataFrame:
        ends = events.assign(**{LIFECYCLE: end})
        at = pd.to_datetime(events[TIME], utc=True, format="ISO8601")
        previous = at.groupby(events[CASE]).shift().fillna(at)
        begun = pd.concat([at - pd.Timedelta(hours=1), previous], axis=1).max(axis=1)
        starts = events.assign(**{LIFECYCLE: start, TIME: begun.dt.strftime("%Y-%m-%dT%H:%M:%SZ")})
        return pd.concat([ends, starts], ignore_index=True)

    return build


def _bare(events: pd.DataFrame) -> pd.DataFrame:
    """Case id, activity and timestamp only: every attribute (and the lifecycle) removed."""
    return events[[CASE, ACTIVITY, TIME]]


VARIANTS = [
    ("helpdesk", "subsample", lambda e: e, "no lifecycle on any event: every event kept"),
    ("declarations", "subsample", lambda e: e, "'complete' events kept"),
    (
        "declarations",
        "renamed to an end word",
        _renamed("Finished"),
        "no 'complete' events: 'finished' events kept (a word that ends an activity)",
    ),
    ("helpdesk", "one other word", _renamed("x"), "one lifecycle word only ('x'): every event kept"),
    (
        "declarations",
        "start and end in other words",
        _with_starts("anfang", "ende"),
        "no 'complete' events: 'ende' events kept (the last transition of most activity instances)",
    ),
    ("declarations", "attributes removed", _bare, "no lifecycle on any event: every event kept"),
]


@pytest.mark.parametrize(
    ("log", "variant", "build", "rule"), VARIANTS, ids=[f"{log}-{variant}" for log, variant, _, _ in VARIANTS]
)
def test_a_stress_variant_runs_without_flags_says_its_rule_and_never_loses_to_the_median(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    log: str,
    variant: str,
    build: Callable[[pd.DataFrame], pd.DataFrame],
    rule: str,
):
    events = build(request.getfixturevalue(log))
    path = tmp_path / f"{log}.csv"
    events.to_csv(path, index=False)

    assert main(["benchmark-log", str(path), "--json"]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["lifecycle_rule"] == rule
    kept = events[events[LIFECYCLE] != "anfang"] if LIFECYCLE in events else events
    assert result["import"]["rows_after_lifecycle_filter"] == len(kept)
    assert result["cases"] == int((kept.groupby(CASE).size() >= 3).sum())
    assert result["selection"]["chosen"] in {c["name"] for c in result["selection"]["candidates"]}
    assert result["mae_days"] <= result["baseline_median_mae_days"]
