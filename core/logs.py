"""Structured logs: one JSON object per line on stderr, each carrying the run id of the work it belongs to.

Containers collect stdout/stderr (`docker compose logs`, `kubectl logs`), so a log line is a JSON
object a log store can index: `ts`, `level`, `logger`, `event`, `run_id` and the fields passed as
`extra`. The run id comes from `run_context(...)`, else from $JOURNEYOPS_RUN_ID (the scheduler sets it
for the commands it starts, so their lines join the scheduler's), else it is absent.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

RUN_ID_ENV = "JOURNEYOPS_RUN_ID"
LEVEL_ENV = "JOURNEYOPS_LOG_LEVEL"
_HANDLER_NAME = "journeyops-json"
_run_id: ContextVar[str | None] = ContextVar("journeyops_run_id", default=None)
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def new_run_id() -> str:
    """A short random run id (12 hex digits, like core.jobs.runs)."""
    return uuid.uuid4().hex[:12]


def current_run_id() -> str | None:
    """The run id of the work in progress: the innermost `run_context`, else $JOURNEYOPS_RUN_ID."""
    return _run_id.get() or os.environ.get(RUN_ID_ENV) or None


@contextmanager
def run_context(run_id: str | None = None) -> Iterator[str]:
    """Tag every log line inside the block with `run_id` (a new one if None); yields the id."""
    rid = run_id or new_run_id()
    token = _run_id.set(rid)
    try:
        yield rid
    finally:
        _run_id.reset(token)


class JsonFormatter(logging.Formatter):
    """A LogRecord as one JSON line: ts (UTC ISO), level, logger, event, run_id, extra fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        run_id = getattr(record, "run_id", None) or current_run_id()
        if run_id:
            payload["run_id"] = run_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "run_id" and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, sort_keys=False)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of the record (tests redirect it)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Emit to the current sys.stderr."""
        self.stream = sys.stderr
        super().emit(record)


def configure(stream: IO[str] | None = None, level: str | int | None = None) -> logging.Handler:
    """Send the `journeyops` loggers to `stream` (stderr) as JSON lines; returns the handler.

    Idempotent: without a `stream`, an already configured handler is kept (a command run by the
    scheduler in-process logs where the scheduler logs)."""
    root = logging.getLogger("journeyops")
    level = level or os.environ.get(LEVEL_ENV, "INFO").upper()
    root.setLevel(level)
    root.propagate = False
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            if stream is None:
                return existing
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    return handler


def get_logger(name: str) -> logging.Logger:
    """A logger under `journeyops.` (e.g. get_logger("scheduler") -> journeyops.scheduler)."""
    return logging.getLogger(name if name.startswith("journeyops") else f"journeyops.{name}")


def pause_point(point: str) -> None:
    """A test hook: when $JOURNEYOPS_PAUSE_AT names `point`, announce it on stderr and sleep, so a
    crash test can SIGKILL the process at exactly the worst moment."""
    if os.environ.get("JOURNEYOPS_PAUSE_AT") != point:
        return
    print(f"journeyops: paused at {point}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("JOURNEYOPS_PAUSE_S", "60")))
