"""Bad input through the command line: Hypothesis-generated argv for every command, run in-process
(`core.cli.main`) against a fresh copy of a small store, and a few as real processes.

The property: the exit code is 0, a documented error code (2 for a JourneyOpsError or an argparse
refusal, 74 / 75 from core/errors.py) and never an exception; nothing prints a traceback; a refusal is
one `error:` line; and a refused command, or one that only reads, leaves the store's content exactly
as it was (row count and content hash of every table). The inputs the fuzzing found crashing are
pinned below as plain tests with their exact messages.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main
from tests.conftest import REPO_ROOT
from tests.fixtures import ORDER_WORLD_EVENTS, write_events

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXIT_CODES = {0, 2, 74, 75}  # success, JourneyOpsError / argparse, StoreDamaged/StoreWrite, StoreBusy
ARGPARSE_ERROR = re.compile(r"^python -m core( [\w-]+)*: error: ", re.MULTILINE)
LOG_LINE = re.compile(r'^\{"ts": |^\s*$|\d+%\|')  # a JSON log line, a blank, a progress bar


@dataclass(frozen=True)
class World:
    """The small store every example copies, and the odd paths the generated argv points at."""

    base: Path
    work: Path
    folder: Path
    missing: Path
    not_a_store: Path
    landing_csv: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("fuzz_cli")
    base = root / "base.duckdb"
    write_events(base, ORDER_WORLD_EVENTS)
    (root / "folder").mkdir()
    (root / "not_a_store.duckdb").write_text("meeting notes, not a database\n")
    landing = root / "events_2026-03-02.csv"
    landing.write_text("event_id,order_id,stage,event_ts\ne1,A,placed,2026-03-02T08:00:00Z\n")
    return World(
        base, root / "work", root / "folder", root / "missing" / "x.duckdb", root / "not_a_store.duckdb", landing
    )


def digest(path: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-free content hash of every table: equal means nothing stored changed."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [row[0] for row in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {
            t: con.execute(f'select count(*), coalesce(sum(hash(x)), 0) from "{t}" as x').fetchone()  # type: ignore[misc]  # noqa: S608
            for t in tables
        }
    finally:
        con.close()


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_in_process(argv: list[str], store_path: Path) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str | None = main([*argv, "--store", str(store_path)])
        except SystemExit as exc:  # argparse refuses with SystemExit(2) (or 0 for --help)
            code = exc.code
    assert isinstance(code, int), f"exit {code!r} for {argv!r}"
    return Outcome(code, out.getvalue(), err.getvalue())


def check(world: World, argv: list[str], *, writes: bool) -> Outcome:
    """Run argv on a fresh copy of the store and assert the property; `writes` marks a command that
    may change the store when it succeeds."""
    for folder in (world.work, world.folder):  # a backup may have filled the empty folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    store_copy = world.work / "journeyops.duckdb"
    shutil.copy(world.base, store_copy)
    before = digest(store_copy)
    done = run_in_process(argv, store_copy)
    assert done.code in EXIT_CODES, (argv, done)
    assert "Traceback" not in done.stderr + done.stdout, (argv, done.stderr)
    if done.code != 0:
        if ARGPARSE_ERROR.search(done.stderr):
            assert done.stderr.rstrip("\n").splitlines()[-1].startswith("python -m core"), (argv, done.stderr)
        else:
            said = [line for line in done.stderr.splitlines() if not LOG_LINE.search(line)]
            assert len(said) == 1 and said[0].startswith("error: "), (argv, done.stderr)
    if done.code != 0 or not writes:
        assert digest(store_copy) == before, argv
    return done


# Values: wrong types, negative and huge numbers, odd dates, unicode and control characters.
EDGE_TEXT = [
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999",
    "-99999999999999999999",
    "1.5",
    "1e400",
    "nan",
    "inf",
    "x",
    "٣",  # an Arabic-Indic digit: int() reads it as 3
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil",
    "日本語",
    "a\nb",
    "--json",
    "../../etc/passwd",
    "x" * 5000,
]
ODD_DATES = [
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "1969-12-31",
    "2200-01-01",
    "20260302",
    "2026-03-02T25:00",
    "0001-01-01T00:00+01:00",
    "9999-12-31T23:59-01:00",
    "２０２６-03-02",
    "2026-W99",
    "0000-W01",
]
texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=12))
numbers = st.one_of(
    st.sampled_from(["-1", "0", "99999999999999999999", "-99999999999999999999", "1.5", "x", "", "0x10"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
dates = st.one_of(st.sampled_from(ODD_DATES), st.sampled_from(EDGE_TEXT), st.text(max_size=10))


def paths(world: World) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [str(world.folder), str(world.missing), str(world.not_a_store), str(world.base), "", "\x00", "ä/\x1b/ü"]
    )


Options = dict[str, st.SearchStrategy[str]]


def argv_of(head: list[str], options: Options, flags: tuple[str, ...] = ()) -> st.SearchStrategy[list[str]]:
    """The command's head, then some of its options with generated values, then some flags, shuffled."""

    @st.composite
    def build(draw: Callable) -> list[str]:
        pairs = [
            [name, draw(values)]
            for name, values in options.items()
            if draw(st.booleans()) or name.startswith("!")  # '!' marks a required option
        ]
        parts = [[name.lstrip("!"), value] for name, value in pairs] + [[f] for f in flags if draw(st.booleans())]
        parts = draw(st.permutations(parts)) if parts else parts
        return head + [token for part in parts for token in part]

    return build()


# Commands that only read: the store is unchanged whatever they answer.
@given(data=st.data())
@FUZZ
def test_read_commands(world: World, data: st.DataObject):
    command = data.draw(
        st.sampled_from(
            [
                argv_of(["status"], {}, ("--json",)),
                argv_of(["alerts"], {"--since": dates, "--status": texts}, ("--json",)),
                argv_of(["models"], {"--kind": texts}, ("--json",)),
                argv_of(["model-audit"], {"--kind": texts}, ("--json",)),
                argv_of(["job-runs"], {"--limit": numbers, "--kind": texts}, ("--json",)),
                argv_of(["triage-list"], {"--as-of": dates}, ("--json",)),
                # no SMTP server is configured here: it prints (--dry-run) or refuses, and stores nothing
                argv_of(["list-mail"], {"--to": texts, "--as-of": dates, "--top": numbers}, ("--json", "--dry-run")),
                argv_of(["token", "list"], {}, ("--json",)),
                argv_of(["views", "list"], {}, ("--json",)),
                argv_of(["assumptions", "show"], {"--at": dates}, ("--json", "--history", "--targets")),
                argv_of(["healthcheck"], {"--role": texts}),
            ]
        )
    )
    check(world, data.draw(command), writes=False)


@given(data=st.data())
@FUZZ
def test_figures_commands(world: World, data: st.DataObject):
    command = data.draw(
        st.sampled_from(
            [
                argv_of(
                    ["benefits"],
                    {"--weeks": numbers, "--as-of": dates, "--resamples": numbers, "--seed": numbers},
                    ("--json",),
                ),
                argv_of(["accuracy"], {"--as-of": dates, "--since": dates, "--k": numbers}, ("--json",)),
                argv_of(
                    ["recovery"],
                    {"--weeks": numbers, "--as-of": dates, "--max-rows": numbers, "--max-iter": numbers},
                    ("--json", "--no-hindsight"),
                ),
            ]
        )
    )
    check(world, data.draw(command), writes=False)


# Commands that write: every generated value is one they must refuse (none is an in-range date, a
# known version or token, a readable landing file), so the store must be unchanged.
@given(data=st.data())
@FUZZ
def test_write_commands_refuse_bad_values(world: World, data: st.DataObject):
    command = data.draw(
        st.sampled_from(
            [
                argv_of(["daily"], {"!--as-of": dates}, ("--json", "--no-retrain")),
                argv_of(["backfill"], {"!--from": dates, "!--to": dates}, ("--json", "--no-retrain")),
                argv_of(["retrain"], {"!--as-of": dates, "--actor": texts}, ("--json",)),
                argv_of(["views", "refresh"], {"!--as-of": dates}, ("--json",)),
                argv_of(
                    ["promote", data.draw(texts)], {"!--reason": texts, "--actor": texts, "--expect-champion": texts}
                ),
                argv_of(["reject", data.draw(texts)], {"!--reason": texts, "--actor": texts}),
                argv_of(["rollback"], {"!--kind": texts, "--to-date": dates, "!--reason": texts}, ("--json",)),
                argv_of(["token", "revoke", data.draw(texts)], {}),
                argv_of(["token", "create"], {"!--role": texts, "--name": texts}, ("--json",)),
                argv_of(
                    ["assumptions", "set", *data.draw(st.lists(texts, max_size=3))],
                    {"--reason": texts, "--at": dates},
                    ("--targets",),
                ),
                argv_of(["report", "weekly"], {"!--week": dates, "--k": numbers, "--resamples": numbers}, ("--json",)),
                argv_of(["scheduler", "--once"], {"!--now": dates, "--job": texts}, ("--json",)),
                argv_of(
                    ["demo"], {"--days": numbers, "--orders-per-day": numbers, "--seed": numbers, "--scenario": texts}
                ),
            ]
        )
    )
    check(world, data.draw(command), writes=False)


# Commands that read files or write outside the store, pointed at folders, missing files, files
# that are not what they should be, and names with control characters. (model-report is left out:
# it backtests the store before it reads its --log files, too slow for a fuzz loop.)
@given(data=st.data())
@settings(FUZZ, max_examples=30)
def test_file_commands_refuse_bad_paths(world: World, data: st.DataObject):
    path = paths(world)
    out = st.just(str(world.work / "out"))
    command = data.draw(
        st.sampled_from(
            [
                argv_of(["ingest", data.draw(path)], {}, ("--json",)),
                argv_of(
                    ["import-log", data.draw(path)],
                    {"--case-col": texts, "--time-col": texts, "--lifecycle": texts, "--tz": texts},
                    ("--json",),
                ),
                argv_of(
                    ["import-log", str(world.landing_csv)],
                    {"!--case-col": texts, "--lifecycle": texts, "--tz": texts},
                    ("--json",),
                ),
                argv_of(["benchmark-log", data.draw(path)], {"--max-cases": numbers, "--case-col": texts}, ("--json",)),
                argv_of(["restore", data.draw(path)], {}, ("--json",)),
                argv_of(["backup"], {"!--out": path, "--keep": numbers}, ("--json", "--stamp")),
                argv_of(
                    ["simulate"],
                    {
                        "!--days": numbers,
                        "!--orders-per-day": numbers,
                        "!--out": out,
                        "--start": dates,
                        "--seed": numbers,
                        "--scenario": texts,
                    },
                ),
            ]
        )
    )
    # a backup or a simulation written outside the store is allowed; the store itself never changes
    check(world, data.draw(command), writes=False)


@given(
    store=st.sampled_from(["folder", "missing", "not_a_store"]),
    command=st.sampled_from(["status", "job-runs", "alerts", "token list", "daily --as-of 2026-03-02", "ingest ."]),
)
@settings(max_examples=18, deadline=None, derandomize=True)
def test_a_bad_store_path_gets_one_line(world: World, store: str, command: str):
    path = getattr(world, store)
    before = path.read_bytes() if path.is_file() else None
    done = run_in_process(command.split(), path)
    assert done.code == 2 and done.stdout == "", (command, done)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert (path.read_bytes() if path.is_file() else None) == before
    assert not world.missing.exists()


# What the fuzzing found: each crashed with a traceback (or ran on) before the fix.
RANGE = "give a day from 1970-01-01 to 2199-12-31"
FOUND = [
    (["recovery", "--as-of", "0001-01-01"], f"--as-of 0001-01-01 is out of range; {RANGE}"),
    (["views", "refresh", "--as-of", "0001-01-01"], f"--as-of 0001-01-01 is out of range; {RANGE}"),
    (["daily", "--as-of", "0001-01-01"], f"--as-of 0001-01-01 is out of range; {RANGE}"),
    (["alerts", "--since", "9999-12-31"], f"--since 9999-12-31 is out of range; {RANGE}"),
    (["scheduler", "--once", "--now", "0001-01-01T00:00+01:00"], f"--now 0001-01-01 is out of range; {RANGE}"),
    (["retrain", "--as-of", "9999-12-31T23:59"], f"--as-of 9999-12-31 is out of range; {RANGE}"),
    (["benefits", "--as-of", "0001-01-01"], f"--as-of 0001-01-01 is out of range; {RANGE}"),
    (
        ["rollback", "--kind", "forecaster", "--to-date", "0001-01-01", "--reason", "r"],
        f"--to-date 0001-01-01 is out of range; {RANGE}",
    ),
    (
        ["backup", "--out", "NOT_A_FOLDER", "--stamp"],
        "NOT_A_FOLDER is a file, not a folder; give --out a folder for the dated backups",
    ),
    (["backup", "--out", "\x00"], "--out holds a NUL character; remove it"),
    (["ingest", "a\x00b"], "--paths holds a NUL character; remove it"),
    (
        ["import-log", "LANDING", "--tz", "x" * 5000],
        f"unknown time zone {'x' * 80!r}; give an IANA name such as Europe/Amsterdam or UTC",
    ),
    (["recovery", "--weeks", "99999999999999999999"], "--weeks must be from 1 to 520, got 99999999999999999999"),
    (
        ["simulate", "--days", "1", "--orders-per-day", "1", "--out", "OUT", "--start", "9999-12-31"],
        f"simulate --start: 9999-12-31 is out of range; {RANGE}",
    ),
    (
        ["simulate", "--days", "99999999999999999999", "--orders-per-day", "1", "--out", "OUT"],
        "simulate: at most 3,650 days of 1,000,000 orders a day, got --days 99999999999999999999 --orders-per-day 1",
    ),
    (
        ["simulate", "--days", "1", "--orders-per-day", "99999999999999999999", "--out", "OUT"],
        "simulate: at most 3,650 days of 1,000,000 orders a day, got --days 1 --orders-per-day 99999999999999999999",
    ),
]


@pytest.mark.parametrize(("argv", "message"), FOUND, ids=[" ".join(a[:2]) + f" {i}" for i, (a, _) in enumerate(FOUND)])
def test_found_by_fuzzing(world: World, argv: list[str], message: str):
    fill = {"OUT": str(world.work / "out"), "NOT_A_FOLDER": str(world.not_a_store), "LANDING": str(world.landing_csv)}
    argv = [fill.get(a, a) for a in argv]
    message = message.replace("NOT_A_FOLDER", str(world.not_a_store))
    done = check(world, argv, writes=False)
    assert (done.code, done.stdout, done.stderr) == (2, "", f"error: {message}\n")
    assert not (world.work / "out").exists()


def test_views_refresh_before_the_first_event_is_an_empty_window_not_a_crash(world: World):
    done = check(world, ["views", "refresh", "--as-of", "1970-01-02", "--json"], writes=True)
    assert done.code == 0 and "Traceback" not in done.stderr


# A handful as real processes: what a user's shell passes (no NUL bytes there).
@pytest.mark.parametrize(
    "argv",
    [
        ["recovery", "--as-of", "0001-01-01"],
        ["job-runs", "--limit", "-5"],
        ["alerts", "--since", "\x1b[31m\u202e"],
        ["benefits", "--weeks", "0"],
        ["token", "create", "--role", "root"],
    ],
    ids=["recovery year 1", "negative limit", "escapes", "zero weeks", "bad choice"],
)
def test_real_processes_refuse_in_one_line(world: World, argv: list[str]):
    shutil.rmtree(world.work, ignore_errors=True)
    world.work.mkdir()
    store_copy = world.work / "journeyops.duckdb"
    shutil.copy(world.base, store_copy)
    before = digest(store_copy)
    done = subprocess.run(
        [sys.executable, "-m", "core", *argv, "--store", str(store_copy)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    last = done.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("error: ") or ARGPARSE_ERROR.match(last), done.stderr
    assert "\x1b" not in done.stderr
    assert digest(store_copy) == before
