"""Which events of a log to keep: the ones that end an activity, by one documented rule.

An event log may record several transitions of each activity instance (`start`, `complete`, ...)
or only one, under any word, or none at all. Remaining-time prediction needs one event per activity
instance, the one that ends it. With `lifecycle="auto"` (the default of `import-log` and
`benchmark-log`) the first rule that applies is used:

1. **no lifecycle** — the log has no lifecycle column, or none of its events carries a transition:
   every event is kept;
2. **complete** — some events say `complete` (any case): those are kept;
3. **end word** — no `complete`, but some events say a word that ends an activity (`completed`,
   `end`, `ended`, `finish`, `finished`, `closed`, `done`, `stop`, `terminate`, in this order of
   preference): the events of that word are kept;
4. **last transition** — other words only: the word that most often is the last transition of an
   activity instance (the events of one activity in one case between two other activities) is kept;
   with one word only, that means every event.

Events without a transition are atomic, which XES reads as complete: rules 2–4 keep them too.
`lifecycle="all"` keeps every event; any other word keeps the events of that word (an error when
none has it). The rule applied is returned as one sentence, which the commands print.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

AUTO = "auto"
ALL = "all"
COMPLETE = "complete"
# Words that end an activity, in order of preference (after `complete`, the XES standard's own).
END_WORDS: tuple[str, ...] = (
    "completed",
    "end",
    "ended",
    "finish",
    "finished",
    "closed",
    "done",
    "stop",
    "terminate",
)


@dataclass(frozen=True)
class LifecycleChoice:
    """The rows kept (a boolean mask over the log's rows), the word kept, and the rule in words."""

    keep: pd.Series
    rule: str
    word: str | None


def normalised(values: pd.Series) -> pd.Series:
    """Transitions stripped and lower-cased; empty text counts as missing."""
    return values.astype("string").str.strip().str.lower().replace("", pd.NA)


def _word_or_atomic(transition: pd.Series, word: str) -> pd.Series:
    return (transition.isna() | (transition == word)).fillna(False).astype(bool)


def _last_word(transition: pd.Series, case: pd.Series, activity: pd.Series, order: pd.Series) -> str:
    """The transition that most often closes an activity instance: a run of one activity's events
    in a case, in time order (ties by position in the file)."""
    frame = pd.DataFrame(
        {"case": case.astype("string"), "activity": activity.astype("string"), "t": transition, "order": order}
    )
    frame["position"] = range(len(frame))
    frame = frame.sort_values(["case", "order", "position"], kind="stable")
    changes = (frame["case"] != frame["case"].shift()) | (frame["activity"] != frame["activity"].shift())
    last_of_run = changes.shift(-1, fill_value=True)
    words = frame.loc[last_of_run.to_numpy(), "t"].dropna()
    counts = words.value_counts()
    # The most frequent; ties go to the alphabetically first word, so the rule is deterministic.
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])


def choose(
    rows: pd.DataFrame,
    lifecycle_col: str | None,
    lifecycle: str | None,
    *,
    case_col: str,
    activity_col: str,
    time_col: str,
) -> LifecycleChoice:
    """The events to keep under `lifecycle` (auto, all, a word or None for all) and the rule applied."""
    everything = pd.Series(True, index=rows.index)
    asked = (lifecycle or ALL).strip().lower()
    if asked == ALL:
        return LifecycleChoice(everything, "all events kept (no lifecycle filter asked)", None)
    transition = normalised(rows[lifecycle_col]) if lifecycle_col is not None else None
    if asked != AUTO:
        if transition is None:
            return LifecycleChoice(everything, f"no lifecycle column: every event kept as '{asked}'", asked)
        return LifecycleChoice(_word_or_atomic(transition, asked), f"'{asked}' events kept (as asked)", asked)
    if transition is None or transition.isna().all():
        return LifecycleChoice(everything, "no lifecycle on any event: every event kept", None)
    present = set(transition.dropna().unique())
    if COMPLETE in present:
        return LifecycleChoice(_word_or_atomic(transition, COMPLETE), "'complete' events kept", COMPLETE)
    for word in END_WORDS:
        if word in present:
            return LifecycleChoice(
                _word_or_atomic(transition, word),
                f"no 'complete' events: '{word}' events kept (a word that ends an activity)",
                word,
            )
    if len(present) == 1:
        (word,) = present
        return LifecycleChoice(everything, f"one lifecycle word only ('{word}'): every event kept", str(word))
    times = rows[time_col]
    if times.dtype.kind != "M":
        times = pd.to_datetime(times.astype("string"), errors="coerce", utc=True, format="ISO8601")
    word = _last_word(transition, rows[case_col], rows[activity_col], times)
    return LifecycleChoice(
        _word_or_atomic(transition, word),
        f"no 'complete' events: '{word}' events kept (the last transition of most activity instances)",
        word,
    )
