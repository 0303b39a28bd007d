"""The lifecycle rule (core/ingest/lifecycle.py) and the forecast choice on the validation window
(core/models/selection.py), on hand-made rows with exact answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ContractError
from core.ingest import lifecycle, log_import
from core.models import selection


def rows(transitions: list[str | None], activities: str = "AABB") -> pd.DataFrame:
    n = len(transitions)
    return pd.DataFrame(
        {
            "case": ["c1"] * n,
            "activity": list(activities[:n]),
            "time": [f"2024-01-01T0{i}:00:00Z" for i in range(n)],
            "lifecycle:transition": transitions,
        }
    )


def choose(frame: pd.DataFrame, asked: str | None = "auto", column: str | None = "lifecycle:transition"):
    choice = lifecycle.choose(frame, column, asked, case_col="case", activity_col="activity", time_col="time")
    return choice.keep.tolist(), choice.rule


def test_auto_keeps_complete_and_atomic_events():
    assert choose(rows(["start", "Complete ", "start", None])) == ([False, True, False, True], "'complete' events kept")


def test_auto_without_complete_keeps_a_word_that_ends_an_activity():
    assert choose(rows(["begin", "END", "begin", "end"])) == (
        [False, True, False, True],
        "no 'complete' events: 'end' events kept (a word that ends an activity)",
    )


def test_auto_with_unknown_words_keeps_the_last_transition_of_activity_instances():
    # Written out of order: the file says "zu" first, but "auf" comes first in time in each instance.
    frame = rows(["zu", "auf", "zu", "auf"]).assign(time=[f"2024-01-01T0{i}:00:00Z" for i in (1, 0, 3, 2)])
    assert choose(frame) == (
        [True, False, True, False],
        "no 'complete' events: 'zu' events kept (the last transition of most activity instances)",
    )


def test_auto_with_one_word_or_no_lifecycle_keeps_everything():
    assert choose(rows(["x", "x", "x", "x"])) == ([True] * 4, "one lifecycle word only ('x'): every event kept")
    assert choose(rows([None, None, "", None])) == ([True] * 4, "no lifecycle on any event: every event kept")
    assert choose(rows([None] * 4), column=None) == ([True] * 4, "no lifecycle on any event: every event kept")


def test_all_and_an_explicit_word():
    assert choose(rows(["start", "complete", "start", "complete"]), "all") == (
        [True] * 4,
        "all events kept (no lifecycle filter asked)",
    )
    assert choose(rows(["start", "complete", "start", None]), "start") == (
        [True, False, True, True],
        "'start' events kept (as asked)",
    )


def test_an_explicit_word_that_no_event_has_is_still_an_error(store_file, tmp_path: Path):
    log = tmp_path / "log.csv"
    log.write_text("case_id,activity,timestamp,lifecycle\nC1,a,2024-01-01T00:00:00Z,begin\n")
    with pytest.raises(ContractError, match="no events left after the lifecycle filter 'complete'"):
        log_import.import_log(log, store_path=store_file, lifecycle="complete")
    summary = log_import.import_log(log, store_path=store_file)
    assert (summary["events_loaded"], summary["lifecycle_rule"]) == (
        1,
        "one lifecycle word only ('begin'): every event kept",
    )


HOURS = np.array([10.0, 20.0, 30.0, 40.0])


def quantiles(p50: np.ndarray, spread: float = 5.0) -> np.ndarray:
    return np.column_stack([p50 - spread, p50, p50 + spread])


def test_the_baseline_is_chosen_where_the_model_does_not_help():
    model = quantiles(HOURS + 30.0)
    baseline = quantiles(HOURS + 2.0)
    chosen = selection.select(HOURS, model, baseline, np.array([2, 2, 3, 3]), np.arange(4))
    assert chosen.chosen == "baseline"
    maes = [c["validation_mae_days"] for c in chosen.candidates]
    # blends: w * 30 + (1 - w) * 2 hours off on every row
    assert maes == pytest.approx([2 / 24, 9 / 24, 16 / 24, 23 / 24, 30 / 24])


def test_a_blend_wins_when_the_errors_cancel_and_a_tie_goes_to_the_simpler_forecast():
    model = quantiles(HOURS + 4.0)
    baseline = quantiles(HOURS - 4.0)
    chosen = selection.select(HOURS, model, baseline, np.array([2, 2, 3, 3]), np.arange(4))
    assert (chosen.chosen, chosen.weight) == ("blend 0.50", 0.5)
    same = selection.select(HOURS, quantiles(HOURS + 1.0), quantiles(HOURS + 1.0), np.array([2, 2, 3, 3]), np.arange(4))
    assert same.chosen == "baseline"


def test_the_model_alone_keeps_its_own_interval():
    chosen = selection.select(HOURS, quantiles(HOURS), quantiles(HOURS + 8.0), np.array([2, 2, 3, 3]), np.arange(4))
    assert chosen.chosen == "model" and chosen.correction is None
    assert chosen.predict(quantiles(HOURS), quantiles(HOURS + 8.0), np.array([2, 2, 3, 3])).tolist() == (
        quantiles(HOURS).tolist()
    )


def test_mondrian_corrections_per_prefix_length_bucket_bring_each_tail_to_its_share():
    rng = np.random.default_rng(0)
    prefix_len = np.repeat([2, 3], 400)
    actual = np.where(prefix_len == 2, rng.uniform(0, 100, 800), rng.uniform(0, 10, 800))
    flat = np.column_stack([np.full(800, 40.0), np.full(800, 50.0), np.full(800, 60.0)])
    correction = selection.fit_correction(actual, flat, prefix_len, min_rows=300)
    assert correction.edges == [2, 3]
    corrected = correction.apply(flat, prefix_len)
    assert corrected[:, 1].tolist() == [50.0] * 800  # the median is never moved
    for length in (2, 3):
        part = prefix_len == length
        below = np.mean(actual[part] < corrected[part, 0])
        above = np.mean(actual[part] > corrected[part, 2])
        assert below <= 0.1 and above <= 0.1
        assert below >= 0.09 or corrected[part, 0].max() == 0.0
    # a single bucket when there are fewer rows than asked: one global correction
    assert selection.fit_correction(actual, flat, prefix_len, min_rows=801).edges == [2]
