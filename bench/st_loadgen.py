"""A websocket load generator that speaks Streamlit's own protocol: many sessions, no browser.

`python -m bench.st_loadgen --url http://127.0.0.1:8501 --sessions 30 --pages today,benefits`
opens `--sessions` websockets to `/_stcore/stream` at once. Each one does what the browser's
frontend does: it sends a `BackMsg.rerun_script` whose `ClientState.page_name` is the page's URL
path (`st.navigation` resolves it; "" is the default page) and reads `ForwardMsg`s until the run's
`script_finished`; then the next page, `--rounds` times over the list. An error is an exception
element in the run's deltas, a `page_not_found`, a compile error, a disconnect or a run longer
than `--timeout` s. It prints one JSON object: sessions, runs, errors, p50/p95/max run seconds.

A browser costs ≈ 2–3 CPU-seconds a page load (STACK-NOTES); this client costs almost nothing, so
the server's cost is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

SUBPROTOCOL = "streamlit"
_FINISHED = ForwardMsg.ScriptFinishedStatus
# A run that ends early for a rerun (navigation's own rerun, say) is followed by another run.
_RUN_OVER = {_FINISHED.FINISHED_SUCCESSFULLY, _FINISHED.FINISHED_WITH_COMPILE_ERROR}


@dataclass
class SessionResult:
    """What one session saw: seconds of each completed page run, and its errors."""

    run_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def stream_url(url: str) -> str:
    """The websocket address of a server's `_stcore/stream` from its http(s) address."""
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"


def rerun_message(page: str) -> bytes:
    """The BackMsg that runs `page` (its URL path, "" for the default page), as the frontend sends."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    msg.rerun_script.page_name = page
    return msg.SerializeToString()


def _exception_text(fwd: ForwardMsg) -> str | None:
    if fwd.WhichOneof("type") != "delta" or fwd.delta.WhichOneof("type") != "new_element":
        return None
    element = fwd.delta.new_element
    if element.WhichOneof("type") != "exception":
        return None
    return f"{element.exception.type}: {element.exception.message}"[:200]


async def _run_page(ws: Any, page: str, timeout_s: float) -> tuple[float, list[str]]:
    """Ask for one page and read until its run is over; (seconds, errors seen in the run)."""
    errors: list[str] = []
    started = time.perf_counter()
    await ws.send(rerun_message(page))
    deadline = started + timeout_s
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"page {page or '(default)'}: no script_finished within {timeout_s:.0f} s")
        data = await asyncio.wait_for(ws.recv(), remaining)
        if isinstance(data, str):
            continue
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        kind = fwd.WhichOneof("type")
        text = _exception_text(fwd)
        if text is not None:
            errors.append(f"page {page or '(default)'}: {text}")
        elif kind == "page_not_found":
            errors.append(f"page {page or '(default)'}: page not found")
        elif kind == "script_finished" and fwd.script_finished in _RUN_OVER:
            if fwd.script_finished == _FINISHED.FINISHED_WITH_COMPILE_ERROR:
                errors.append(f"page {page or '(default)'}: compile error")
            return time.perf_counter() - started, errors


async def run_session(url: str, pages: Sequence[str], rounds: int = 1, timeout_s: float = 60.0) -> SessionResult:
    """One session: connect, run each page in turn `rounds` times, close. Never raises."""
    result = SessionResult()
    try:
        async with connect(
            stream_url(url), subprotocols=[SUBPROTOCOL], max_size=None, ping_interval=None, open_timeout=timeout_s
        ) as ws:
            for _ in range(rounds):
                for page in pages:
                    seconds, errors = await _run_page(ws, page, timeout_s)
                    result.run_seconds.append(seconds)
                    result.errors.extend(errors)
    except (ConnectionClosed, OSError) as exc:
        result.errors.append(f"disconnected: {type(exc).__name__}: {exc}"[:200])
    except TimeoutError as exc:
        result.errors.append(f"timeout: {exc}"[:200])
    return result


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least q of the values at or below it.
    rank = max(1, -(-len(ordered) * q // 1))
    return round(ordered[int(rank) - 1], 3)


def summarise(results: Sequence[SessionResult], seconds: float) -> dict[str, Any]:
    """Sessions, page runs completed, errors (count and the first few), run-time quantiles."""
    runs = [s for r in results for s in r.run_seconds]
    errors = [e for r in results for e in r.errors]
    return {
        "sessions": len(results),
        "runs": len(runs),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_run_seconds": _quantile(runs, 0.5),
        "p95_run_seconds": _quantile(runs, 0.95),
        "max_run_seconds": round(max(runs), 3) if runs else None,
        "seconds": round(seconds, 3),
    }


async def run_load(
    url: str, sessions: int, pages: Sequence[str], rounds: int = 1, timeout_s: float = 60.0
) -> dict[str, Any]:
    """`sessions` concurrent sessions, each running `pages` in turn; the summary of all of them."""
    started = time.perf_counter()
    results = await asyncio.gather(*(run_session(url, pages, rounds, timeout_s) for _ in range(sessions)))
    return summarise(results, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the load and print its summary as JSON; exit 1 when any run erred."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8501")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--pages", default="", help="comma-separated URL paths; empty = the default page")
    parser.add_argument("--rounds", type=int, default=1, help="times each session goes through the pages")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a page run may take")
    args = parser.parse_args(argv)
    pages = args.pages.split(",") if args.pages else [""]
    summary = asyncio.run(run_load(args.url, args.sessions, pages, args.rounds, args.timeout))
    print(json.dumps(summary))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
