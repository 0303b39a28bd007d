"""The weekly report: sheets, frozen headers, totals equal to the core functions, formula injection kept
as text, every section in the HTML, one snapshot, clear errors for an empty week and a bad --week."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from plotly.offline import get_plotlyjs

from bench import report as bench_report
from core import store
from core.cli import main
from core.errors import ConfigError, JourneyOpsError
from core.monitor import accuracy, alert_store, benefits, segments
from core.report import contents, tables, weekly
from tests.test_accuracy import insert
from tests.test_benefits import LIST_MORNING, build_store

W11 = "2026-W11"  # Monday 2026-03-09 .. Sunday 2026-03-15: the live week of the hand-made store
SECOND_MORNING = datetime(2026, 3, 11, 0, 0)
HYPERLINK = '=HYPERLINK("http://x","y")'
XSS = "<script>alert(1)</script>"


def action(action_id: str, order_id: str, day: datetime, note: str, actor: str = "ann") -> dict:
    return {
        "action_id": action_id,
        "order_id": order_id,
        "as_of_date": day.date(),
        "action": "contacted_customer",
        "note": note,
        "actor": actor,
        "acted_at": day.replace(hour=9),
    }


def drift_row(day: date, column: str, score: float, drifted: bool) -> dict:
    return {
        "as_of": day,
        "column": column,
        "role": "feature",
        "kind": "numeric",
        "method": "wasserstein",
        "score": score,
        "threshold": 0.1,
        "drifted": drifted,
        "missing_rate_ref": 0.0,
        "missing_rate_cur": 0.0,
        "missing_rate_jumped": False,
        "new_categories": [],
        "new_category_share": 0.0,
        "status": "drifted" if drifted else "ok",
        "note": None,
        "rows_ref": 100,
        "rows_cur": 50,
        "computed_at": day,
    }


def build_report_store(path: Path) -> Path:
    """The benefits store (W10 baseline; W11: L1, L2, L3 listed on 03-10, L2 held out) plus a second list
    morning, actions with malicious notes, drift, validity and an alert."""
    build_store(path)
    insert(
        path,
        "predictions",
        [
            {
                "as_of_date": SECOND_MORNING.date(),
                "as_of_at": SECOND_MORNING,
                "order_id": "L3",
                "role": "champion",
                "p10_h": 5.0,
                "p50_h": 10.0,
                "p90_h": 30.0,
                "stuck_prob": 0.2,
                "scored_at": SECOND_MORNING,
            },
        ],
    )
    insert(
        path,
        "triage_list",
        [
            {
                "as_of_date": SECOND_MORNING.date(),
                "order_id": "L3",
                "rank": 1,
                "expected_cost": 8.0,
                "stuck_prob": 0.2,
                "held_out": False,
                "created_at": SECOND_MORNING,
                "reasons": json.dumps([{"feature": "dwell_h", "effect": 0.1, "text": "long wait in packed"}]),
            },
        ],
    )
    insert(
        path,
        "triage_actions",
        [
            action("a1", "L1", LIST_MORNING, HYPERLINK),
            action("a2", "L3", LIST_MORNING, "+1"),
            action("a3", "L3", SECOND_MORNING, "@SUM(A1)", actor=XSS),
        ],
    )
    insert(
        path,
        "drift_results",
        [
            drift_row(date(2026, 3, 10), "elapsed_h", 0.05, False),
            drift_row(date(2026, 3, 10), "carrier", 0.3, True),
            drift_row(date(2026, 3, 11), "elapsed_h", 0.08, False),
            drift_row(date(2026, 3, 11), "carrier", 0.4, True),
            drift_row(date(2026, 3, 3), "carrier", 0.9, True),  # the week before: not in W11
        ],
    )
    insert(
        path,
        "validity_batches",
        [
            {
                "as_of": date(2026, 3, 10),
                "rows_total": 40,
                "rows_quarantined": 2,
                "quarantined_share": 0.05,
                "computed_at": LIST_MORNING,
            },
        ],
    )
    insert(
        path,
        "validity_reasons",
        [
            {
                "as_of": date(2026, 3, 10),
                "reason": "missing order_id",
                "rows_quarantined": 2,
                "share": 0.05,
                "examples": json.dumps([{"note": "-2+3"}]),
            },
        ],
    )
    insert(
        path,
        "alerts",
        [
            {
                "alert_id": "x1",
                "as_of": date(2026, 3, 11),
                "rule": "drift_share",
                "severity": "warning",
                "subject": "features",
                "message": "=1+1 drifted",
                "status": "open",
                "value": 0.5,
                "threshold": 0.3,
                "created_at": SECOND_MORNING,
                "updated_at": SECOND_MORNING,
            },
        ],
    )
    return path


@pytest.fixture(scope="module")
def week_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once for the module; the tests only read it (the snapshot test builds its own)."""
    return build_report_store(tmp_path_factory.mktemp("report_store") / "journeyops.duckdb")


@pytest.fixture(scope="module")
def written(week_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return weekly.write_weekly_report(W11, tmp_path_factory.mktemp("report_out"), week_store, n_boot=200)


def sheet_frame(sheet) -> pd.DataFrame:
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_parse_week():
    week = contents.parse_week("2026-W11")
    assert (week.label, week.start, week.end) == ("2026-W11", date(2026, 3, 9), date(2026, 3, 15))
    assert week.end_at == datetime(2026, 3, 16, 0, 0)  # Sunday's scoring instant
    assert contents.parse_week("2026-W53").start == date(2026, 12, 28)
    for bad in ("2026-11", "2026W11", "26-W11", "2026-W1", "W11", ""):
        with pytest.raises(ConfigError, match="not an ISO week; write it as YYYY-Www"):
            contents.parse_week(bad)
    with pytest.raises(ConfigError, match="2025 has no ISO week 53"):
        contents.parse_week("2025-W53")
    with pytest.raises(ConfigError, match="has no ISO week 0"):
        contents.parse_week("2026-W00")


def test_workbook_sheets_and_frozen_headers(written: dict):
    book = load_workbook(written["workbook"])
    assert book.sheetnames == list(contents.SECTIONS.values())
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.b
        assert sheet.column_dimensions["A"].width >= 8
    summary = sheet_frame(book["Summary"]).set_index("figure")
    assert summary.loc["iso_week", "value"] == W11
    assert summary.loc["outcomes_judged_at", "value"] == "2026-03-12 00:00:00"  # the last event, before Sunday


def test_at_risk_sheet_excludes_held_out_and_keeps_actions(written: dict):
    at_risk = sheet_frame(load_workbook(written["workbook"])["At-risk lists"])
    assert list(zip(at_risk["as_of_date"].dt.date, at_risk["order_id"], at_risk["rank"], strict=True)) == [
        (date(2026, 3, 10), "L1", 1),
        (date(2026, 3, 10), "L3", 3),
        (date(2026, 3, 11), "L3", 1),
    ]
    assert "L2" not in set(at_risk["order_id"])  # held out: never shown, never in the report
    assert at_risk["actions"].tolist() == [1, 1, 1]
    assert at_risk["last_action"].tolist() == ["contacted_customer"] * 3
    assert at_risk["reasons"].tolist() == [None, None, "long wait in packed"]
    summary = sheet_frame(load_workbook(written["workbook"])["Summary"]).set_index("figure")
    assert summary.loc["orders_shown", "value"] == 3
    assert summary.loc["orders_held_out", "value"] == 1
    assert summary.loc["actions_taken", "value"] == 3


def test_formula_injection_stays_text(written: dict):
    book = load_workbook(written["workbook"])
    at_risk = book["At-risk lists"]
    notes_col = [c.column_letter for c in at_risk[1] if c.value == "notes"][0]
    notes = at_risk[notes_col][1:]
    assert [c.value for c in notes] == [HYPERLINK, "+1", "@SUM(A1)"]
    # stored as string cells with a quote prefix (core.triage.export's rule), never as formulas
    assert all(c.data_type == "s" and c.quotePrefix for c in notes)
    for sheet in book.worksheets:  # no formula anywhere in the workbook
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    alert = book["Alerts"]
    messages = [c.value for c in alert[1] if c.value == "message"]
    assert messages
    message_col = [c.column_letter for c in alert[1] if c.value == "message"][0]
    assert alert[f"{message_col}2"].value == "=1+1 drifted"
    assert alert[f"{message_col}2"].data_type == "s" and alert[f"{message_col}2"].quotePrefix


def test_totals_equal_the_core_functions(written: dict, week_store: Path):
    book = load_workbook(written["workbook"])
    as_of = datetime(2026, 3, 12, 0, 0)
    since = date(2026, 3, 9)
    summary = sheet_frame(book["Summary"])
    figures = dict(zip(summary["section"] + "." + summary["figure"], summary["value"], strict=True))
    overview = accuracy.accuracy_overview(week_store, as_of=as_of, since=since)
    realised = overview["forecast"]["realised"]  # type: ignore[index]
    for name, value in realised.items():
        assert figures[f"forecast accuracy (realised).{name}"] == pytest.approx(value, nan_ok=True), name
    # 03-10: L1, L2 overdue at 48 h and L3 delivered after 48 h (p50 20 h); 03-11: L3 after 24 h (p50 10 h)
    assert figures["forecast accuracy (realised).mae_h"] == (28.0 * 3 + 14.0) / 4
    triage = overview["triage"]["realised"]  # type: ignore[index]
    assert figures["triage precision (realised).precision_at_50_pct"] == pytest.approx(triage["precision_at_k_pct"])
    by_day = sheet_frame(book["Forecast accuracy"])
    expected = accuracy.forecast_accuracy(week_store, as_of=as_of, since=since)
    assert by_day["forecasts"].sum() == expected["forecasts"].sum() == 4
    np.testing.assert_allclose(by_day["mae_h"], expected["mae_h"])
    precision = sheet_frame(book["Triage precision"])
    assert precision["listed"].sum() == accuracy.triage_accuracy(week_store, as_of=as_of, since=since)["listed"].sum()
    segment_sheet = sheet_frame(book["Segments"])
    segment_core = segments.segment_table(week_store, as_of=as_of, since=since)
    assert len(segment_sheet) == len(segment_core) > 0
    np.testing.assert_allclose(segment_sheet["figure"].astype(float), segment_core["figure"])
    ledger_sheet = sheet_frame(book["Benefits"])
    ledger_core = benefits.benefit_ledger(week_store, as_of=as_of, n_boot=200)
    assert len(ledger_sheet) == len(ledger_core)
    np.testing.assert_allclose(ledger_sheet["value"].astype(float), ledger_core["value"].astype(float))
    np.testing.assert_allclose(ledger_sheet["value_eur"].astype(float), ledger_core["value_eur"].astype(float))
    week_total = ledger_core.loc[(ledger_core["iso_week"] == W11) & (ledger_core["metric"] == "total_value_eur")]
    assert figures["benefits.total_value_eur"] == pytest.approx(float(week_total["value"].iloc[0]))
    drift_sheet = sheet_frame(book["Drift"])
    assert drift_sheet[["column", "days", "days_drifted"]].values.tolist() == [["carrier", 2, 2], ["elapsed_h", 2, 0]]
    assert drift_sheet["max_score"].tolist() == [0.4, 0.08]  # the week before (0.9) stays out
    quality = sheet_frame(book["Data quality"])
    assert quality[["rows_total", "batch_rows_quarantined", "reason"]].values.tolist() == [[40, 2, "missing order_id"]]
    assert len(sheet_frame(book["Alerts"])) == len(alert_store.read_alerts(since, week_store)) == 1


def test_html_has_every_section_offline_and_escaped(written: dict):
    page = Path(written["html"]).read_text(encoding="utf-8")
    for key, title in contents.SECTIONS.items():
        assert f'<section id="{key}"><h2>{title}</h2>' in page
    assert page.count(get_plotlyjs()) == 1  # plotly.js inlined once
    ours = page.replace(get_plotlyjs(), "")
    assert "src=" not in ours and "cdn" not in ours  # nothing fetched: readable offline
    assert page.count("Plotly.newPlot") >= 4  # charts are drawn, with plotly.js inlined once
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"<td>{HYPERLINK}</td>" in page  # plain text in a cell: HTML runs no formulas


def test_one_snapshot_a_write_after_it_is_not_seen(store_file: Path):
    week_store = build_report_store(store_file)
    with tables.store_snapshot(week_store) as snap:
        assert snap != week_store
        insert(
            week_store,
            "alerts",
            [
                {
                    "alert_id": "late",
                    "as_of": date(2026, 3, 12),
                    "rule": "stale_feed",
                    "severity": "critical",
                    "subject": "feed",
                    "message": "landed mid-build",
                    "status": "open",
                    "value": None,
                    "threshold": None,
                    "created_at": SECOND_MORNING,
                    "updated_at": SECOND_MORNING,
                },
            ],
        )
        assert alert_store.read_alerts(None, snap)["alert_id"].tolist() == ["x1"]
    assert not snap.exists()
    assert sorted(alert_store.read_alerts(None, week_store)["alert_id"]) == ["late", "x1"]


def test_a_week_without_data_is_a_clear_error(week_store: Path, tmp_path: Path):
    with pytest.raises(
        contents.EmptyWeekError,
        match=r"no data for week 2026-W20 \(2026-05-11 to 2026-05-17\): "
        r"the last event is at 2026-03-12",
    ):
        weekly.write_weekly_report("2026-W20", tmp_path / "out", week_store)
    assert not (tmp_path / "out").exists()


def test_cli_writes_both_files(week_store: Path, tmp_path: Path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "report",
                "weekly",
                "--week",
                W11,
                "--out",
                str(tmp_path / "r"),
                "--store",
                str(week_store),
                "--resamples",
                "200",
                "--json",
            ]
        )
    assert code == 0
    printed = json.loads(out.getvalue())
    assert printed["week"] == W11
    assert Path(printed["workbook"]) == tmp_path / "r" / "journeyops-weekly-2026-W11.xlsx"
    assert Path(printed["workbook"]).stat().st_size > 0 and Path(printed["html"]).stat().st_size > 0
    assert printed["summary"]["forecast accuracy (realised).mae_h"] == 24.5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--week", "2026-13"], "--week '2026-13' is not an ISO week; write it as YYYY-Www"),
        (["--week", "2026-W30"], "no data for week 2026-W30"),
    ],
)
def test_cli_errors_are_one_line(week_store: Path, tmp_path: Path, argv: list[str], message: str):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["report", "weekly", *argv, "--out", str(tmp_path / "r"), "--store", str(week_store)])
    assert code == 2
    lines = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]


def test_missing_store_is_a_clear_error(tmp_path: Path):
    with pytest.raises(store.StoreMissingError, match="no store at"):
        tables.build_weekly_report(W11, tmp_path / "absent.duckdb")


@pytest.fixture(scope="module")
def closed_loop_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's trained world (shared with the daily tests) with one daily cycle run: a list, actions,
    drift, validity and alerts."""
    from tests.test_scenarios import copy_world, run_days, session_world

    copy = copy_world(session_world(tmp_path_factory), tmp_path_factory.mktemp("report_loop"))
    run_days(copy, 1)
    return copy.store


def test_closed_loop_week_matches_the_pages_functions(closed_loop_store: Path, tmp_path: Path):
    from core.triage import ranking

    day = ranking.latest_list_day(None, closed_loop_store)
    assert day is not None
    year, number, _ = day.isocalendar()
    built = tables.build_weekly_report(f"{year}-W{number:02d}", closed_loop_store, n_boot=200)
    since = built.week.start
    overview = accuracy.accuracy_overview(closed_loop_store, as_of=built.as_of, since=since)
    forecasts = overview["forecast"]  # type: ignore[index]
    assert built.figures["forecast accuracy (estimated).forecasts"] == forecasts["estimated"]["forecasts"] > 0
    for name, value in forecasts.get("realised", {}).items():
        assert built.figures[f"forecast accuracy (realised).{name}"] == pytest.approx(value, nan_ok=True)
    pd.testing.assert_frame_equal(
        built.tables["forecast_accuracy"], accuracy.forecast_accuracy(closed_loop_store, as_of=built.as_of, since=since)
    )
    shown = pd.concat(
        [
            ranking.read_triage_list(d, closed_loop_store)
            for d in sorted(set(pd.to_datetime(built.tables["at_risk"]["as_of_date"]).dt.date))
        ]
    )
    assert len(built.tables["at_risk"]) == len(shown) > 0
    assert not shown["held_out"].any()
    with store.connect(closed_loop_store, read_only=True) as con:
        held = {r[0] for r in con.execute("select order_id from triage_list where held_out").fetchall()}
    assert held and not held & set(built.tables["at_risk"]["order_id"])
    segment_core = segments.segment_table(closed_loop_store, as_of=built.as_of, since=since)
    pd.testing.assert_frame_equal(built.tables["segments"].reset_index(drop=True), segment_core)
    ledger_core = benefits.benefit_ledger(closed_loop_store, as_of=built.as_of, n_boot=200)
    pd.testing.assert_frame_equal(built.tables["benefits"], ledger_core)
    assert len(built.tables["drift"]) > 0 and len(built.tables["data_quality"]) > 0
    # the benchmark's subject on the same store: the last listed week, both files written
    run, summarise = bench_report.prepare_weekly_report(str(closed_loop_store), str(tmp_path / "bench"))
    written = run()
    figures = summarise(written)
    assert figures["week"] == built.week.label
    assert figures["forecasts"] == built.tables["forecast_accuracy"]["forecasts"].sum() > 0
    assert load_workbook(written["workbook"]).sheetnames == list(contents.SECTIONS.values())


def test_a_store_without_the_daily_tables_is_a_clear_error(store_file: Path):
    build_store(store_file)
    with store.transaction(store_file) as con:
        con.execute("drop table triage_list")  # as a store from before schema 006 has none
    with pytest.raises(JourneyOpsError, match="has no daily tables yet .* run the daily job once"):
        tables.build_weekly_report(W11, store_file)
