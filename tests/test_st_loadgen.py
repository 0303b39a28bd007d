"""bench.st_loadgen against a real streamlit server running a tiny three-page app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bench import sessions, st_loadgen

TINY_APP = """
import streamlit as st

def home():
    st.title("Home")

def other():
    st.write("another clean page")

def boom():
    st.title("Boom")
    raise ValueError("kaboom")

st.navigation([st.Page(home, title="Home", default=True), st.Page(other, title="Other", url_path="other"),
               st.Page(boom, title="Boom", url_path="boom")]).run()
"""


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("tiny_app")
    script = folder / "app.py"
    script.write_text(TINY_APP)
    with sessions.streamlit_server(script, cwd=folder) as (url, _pid):
        yield url


def test_clean_pages_give_no_errors(server_url: str) -> None:
    summary = asyncio.run(st_loadgen.run_load(server_url, 3, ["", "other"], rounds=2, timeout_s=30))
    assert summary["sessions"] == 3
    assert summary["runs"] == 12
    assert summary["errors"] == 0
    assert summary["error_samples"] == []
    assert 0 < summary["p50_run_seconds"] <= summary["p95_run_seconds"] <= summary["max_run_seconds"]


def test_a_page_that_raises_is_an_error(server_url: str) -> None:
    summary = asyncio.run(st_loadgen.run_load(server_url, 2, ["", "boom", "other"], timeout_s=30))
    assert summary["runs"] == 6
    assert summary["errors"] == 2
    assert summary["error_samples"] == ["page boom: ValueError: kaboom"] * 2


def test_an_unknown_page_is_an_error(server_url: str) -> None:
    summary = asyncio.run(st_loadgen.run_load(server_url, 1, ["no-such-page"], timeout_s=30))
    assert summary["runs"] == 1
    assert summary["error_samples"] == ["page no-such-page: page not found"]


def test_a_server_that_is_gone_is_a_disconnect() -> None:
    url = f"http://127.0.0.1:{sessions.free_port()}"
    summary = asyncio.run(st_loadgen.run_load(url, 2, [""], timeout_s=5))
    assert summary["runs"] == 0
    assert summary["errors"] == 2
    assert all(e.startswith("disconnected: ConnectionRefusedError") for e in summary["error_samples"])


def test_the_command_line_prints_the_summary_and_fails_on_errors(
    server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert st_loadgen.main(["--url", server_url, "--sessions", "2", "--pages", ",other"]) == 0
    assert '"runs": 4, "errors": 0' in capsys.readouterr().out
    assert st_loadgen.main(["--url", server_url, "--sessions", "1", "--pages", "boom"]) == 1


def test_stream_url_and_quantiles() -> None:
    assert st_loadgen.stream_url("http://127.0.0.1:8501/") == "ws://127.0.0.1:8501/_stcore/stream"
    assert st_loadgen.stream_url("https://h/app") == "wss://h/app/_stcore/stream"
    results = [st_loadgen.SessionResult(run_seconds=[float(s) for s in range(1, 21)])]
    summary = st_loadgen.summarise(results, 1.0)
    assert (summary["p50_run_seconds"], summary["p95_run_seconds"], summary["max_run_seconds"]) == (10.0, 19.0, 20.0)
