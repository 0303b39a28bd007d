"""The process one benchmark case runs in: `python -m bench.child REQUEST.json ANSWER.json`.

The request names a prepare function (`module:function`) and its kwargs. Preparing (imports,
reading inputs) is not timed; the thunk it returns is, with `time.perf_counter`; an optional
summarise function turns the thunk's output into figures, untimed. The answer holds
the seconds, the RSS just before the thunk, the peak RSS (VmHWM) of preparing and running, and
the figures.
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
import time
from pathlib import Path


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """This process's resident set size now, in MiB (0 where /proc is missing)."""
    return _status_mb("VmRSS") or 0.0


def peak_rss_mb() -> float | None:
    """This program's peak RSS in MiB (VmHWM: reset by exec, unlike ru_maxrss); None without /proc."""
    return _status_mb("VmHWM")


def main(request_path: str, answer_path: str) -> int:
    """Prepare, time the thunk, write the answer; exceptions propagate (non-zero exit)."""
    request = json.loads(Path(request_path).read_text())
    module_name, func_name = request["target"].split(":")
    prepare = getattr(importlib.import_module(module_name), func_name)
    prepared = prepare(**request["kwargs"])
    # A prepare function returns the thunk to time, or (thunk, summarise): summarising the
    # thunk's output into figures (counting rows, say) is not part of the measured work.
    run, summarise = prepared if isinstance(prepared, tuple) else (prepared, None)
    gc.collect()
    rss_before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    output = run()
    seconds = time.perf_counter() - started
    # CPU seconds of all threads: steadier than wall time when the machine is shared.
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_rss_mb()
    figures = summarise(output) if summarise is not None else output
    answer = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "figures": figures or {},
    }
    Path(answer_path).write_text(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
