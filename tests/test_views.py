"""Materialised page views (core.views.stored): a stored view equals the live computation, goes stale as
soon as what it was computed from changes, and a broken folder is ignored and rewritten."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.access.roles import User
from core.domain import SEGMENT_COLUMNS
from core.monitor import assumptions
from core.triage.actions import record_action
from core.views import insights, view_files
from core.views import stored as views
from tests import test_benefits
from tests.test_accuracy import insert

LIST_DAY = date(2026, 3, 10)


def assert_same(live: Any, stored: Any, where: str = "view") -> None:
    """Frames equal (dtypes too), records and values equal (NaN equals NaN)."""
    if isinstance(live, pd.DataFrame):
        pd.testing.assert_frame_equal(stored, live, obj=where)
    elif isinstance(live, dict):
        assert stored.keys() == live.keys(), where
        for key in live:
            assert_same(live[key], stored[key], f"{where}.{key}")
    else:
        assert (stored == live) or (pd.isna(stored) and pd.isna(live)), (where, live, stored)


@pytest.fixture
def world(store_file: Path) -> tuple[Path, date, date]:
    """The two-week benefits world (orders, events, contacts, ETAs, scores, a list): first and last day."""
    test_benefits.build_store(store_file)
    span = insights.load_event_span(store_file)
    assert span is not None
    return store_file, span[0], span[1]


def live_views(path: Path, first: date, last: date) -> dict[str, Any]:
    return {
        **{f"accuracy:{s}": views.compute_accuracy_view(last, s, path) for s in SEGMENT_COLUMNS},
        "segments": views.compute_segment_view(last, path),
        "benefits": views.compute_benefits_view(last, path),
        "process": views.compute_process_view(first, last, path),
    }


def stored_views(path: Path, first: date, last: date) -> dict[str, Any]:
    return {
        **{f"accuracy:{s}": views.accuracy_view(last, s, path) for s in SEGMENT_COLUMNS},
        "segments": views.segment_view(last, path),
        "benefits": views.benefits_view(last, path),
        "process": views.process_view(first, last, path),
    }


def manifests(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["view"], json.dumps(m["params"], sort_keys=True)): m for m in view_files.stored_views(path)}


def test_refresh_writes_every_default_view_and_the_stored_views_equal_live(world):
    path, first, last = world
    seconds = views.refresh(path)
    assert sorted(seconds) == sorted([f"accuracy:{s}" for s in SEGMENT_COLUMNS] + ["segments", "benefits", "process"])
    stored = manifests(path)
    fingerprint = view_files.inputs_fingerprint(path)
    assert len(stored) == len(SEGMENT_COLUMNS) + 3
    assert {m["fingerprint"] for m in stored.values()} == {fingerprint}
    assert ("process", json.dumps({"as_of": str(last), "start": str(first)}, sort_keys=True)) in stored
    read = stored_views(path, first, last)
    assert_same(live_views(path, first, last), read)
    assert read["benefits"]["go_live"] == LIST_DAY
    assert read["accuracy:carrier"]["forecasts"] == 3


def test_a_current_view_is_served_from_its_files(world):
    path, first, last = world
    views.refresh(path)
    folder = view_files.view_path("benefits", {"as_of": last}, path)
    history = pd.read_parquet(folder / "history.parquet")
    # a marker only the file holds: served means it comes back
    marked = history.assign(reason="from the stored file") if len(history) else pd.DataFrame({"marker": [1]})
    marked.to_parquet(folder / "history.parquet")
    assert_same(marked, views.benefits_view(last, path)["history"])


@pytest.mark.parametrize("change", ["event", "triage_action", "assumption_edit"])
def test_new_data_changes_the_fingerprint_and_the_stale_view_is_not_served(world, change):
    path, first, last = world
    views.refresh(path)
    before = view_files.inputs_fingerprint(path)
    old_ledger = views.benefits_view(last, path)["ledger"]
    if change == "event":
        insert(
            path,
            "events",
            [
                {
                    "event_id": "L1-x",
                    "order_id": "L1",
                    "stage": "exception_address",
                    "event_ts": datetime(2026, 3, 13, 1, 0),
                    "source": "test",
                    "loaded_at": datetime(2026, 3, 14),
                }
            ],
        )
    elif change == "triage_action":
        record_action(
            User("ana", "triage"), "L1", LIST_DAY, "contacted_customer", "called", path, now=datetime(2026, 3, 10, 9, 0)
        )
    else:
        assumptions.save_assumptions({"contact_cost": 99.0}, actor="ben", reason="new rate", store_path=path)
    after = view_files.inputs_fingerprint(path)
    assert after != before
    live_now = views.compute_benefits_view(last, path)
    served = views.benefits_view(last, path)
    assert_same(live_now, served)
    assert manifests(path)[("benefits", json.dumps({"as_of": str(last)}))]["fingerprint"] == after
    if change == "assumption_edit":
        # the ledger's money moved with the new rate: the stale file would have shown the old one
        assert not old_ledger.equals(served["ledger"])


@pytest.mark.parametrize("damage", ["no_manifest", "missing_frame", "corrupt_frame", "corrupt_manifest"])
def test_a_broken_view_folder_is_ignored_and_recomputed(world, damage):
    path, first, last = world
    views.refresh(path)
    folder = view_files.view_path("process", {"start": first, "as_of": last}, path)
    if damage == "no_manifest":
        (folder / view_files.MANIFEST).unlink()
    elif damage == "missing_frame":
        (folder / "wip.parquet").unlink()
    elif damage == "corrupt_frame":
        (folder / "dwell_stats.parquet").write_bytes(b"not parquet")
    else:
        (folder / view_files.MANIFEST).write_text("{ half a manifest")
    assert view_files.read_view(folder, view_files.inputs_fingerprint(path)) is None
    assert_same(views.compute_process_view(first, last, path), views.process_view(first, last, path))
    # recomputed and written back whole
    assert view_files.read_view(folder, view_files.inputs_fingerprint(path)) is not None


def test_a_read_only_views_folder_still_serves_the_live_view(world, monkeypatch):
    path, first, last = world

    def refuse(*_args: Any, **_kwargs: Any) -> str:
        raise PermissionError("read-only folder")

    monkeypatch.setattr(view_files.tempfile, "mkdtemp", refuse)
    assert_same(views.compute_segment_view(last, path), views.segment_view(last, path))
    assert not view_files.views_dir(path).joinpath("segments").exists() or not any(
        view_files.views_dir(path).joinpath("segments").iterdir()
    )


def test_only_a_few_keys_are_kept_per_view(world):
    path, first, last = world
    for n in range(view_files.KEEP_PER_VIEW + 3):
        views.process_view(first, date.fromordinal(last.toordinal() - n % 3), path)
        view_files.write_view(
            view_files.view_path("process", {"n": n}, path),
            {"x": pd.DataFrame({"a": [n]})},
            {"fingerprint": "f", "version": view_files.VIEWS_VERSION},
        )
        view_files.prune("process", path)
    kept = [p for p in (view_files.views_dir(path) / "process").iterdir()]
    assert len(kept) == view_files.KEEP_PER_VIEW
    assert not any(p.name.startswith(".") for p in kept)


def test_a_store_without_events_has_no_default_views(store_file):
    insert(store_file, "orders", [test_benefits.order("B1", "2026-03-02 08:00", "2026-03-04 00:00")])
    assert views.refresh(store_file) == {}
    assert view_files.stored_views(store_file) == []


def test_views_refresh_cli(world, capsys):
    from core.cli import main

    path, first, last = world
    assert main(["views", "refresh", "--store", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sorted(printed["views"]) == sorted(
        [f"accuracy:{s}" for s in SEGMENT_COLUMNS] + ["segments", "benefits", "process"]
    )
    assert main(["views", "list", "--store", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == len(SEGMENT_COLUMNS) + 3
    assert main(["views", "refresh", "--store", str(path), "--as-of", "2026-03-11"]) == 0
    assert ("segments", json.dumps({"as_of": "2026-03-11"})) in manifests(path)


def _fake_day(as_of: date, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    return {"as_of_date": str(as_of)}


def test_the_daily_command_leaves_the_views_ready(world, monkeypatch, capsys):
    from core.cli import main
    from core.jobs import daily

    path, first, last = world
    monkeypatch.setattr(daily, "run_daily", _fake_day)
    assert main(["daily", "--store", str(path), "--as-of", str(last), "--json"]) == 0
    assert len(manifests(path)) == len(SEGMENT_COLUMNS) + 3
    assert {m["fingerprint"] for m in view_files.stored_views(path)} == {view_files.inputs_fingerprint(path)}


def test_a_failed_refresh_does_not_fail_the_daily_command(world, monkeypatch, caplog):
    from core.cli import main
    from core.jobs import daily

    path, first, last = world

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, float]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(daily, "run_daily", _fake_day)
    monkeypatch.setattr(views, "refresh", broken)
    assert main(["daily", "--store", str(path), "--as-of", str(last), "--json"]) == 0
    assert view_files.stored_views(path) == []
    assert "refreshing the page views failed" in caplog.text


def test_the_today_view_equals_core_and_goes_stale_on_an_acknowledged_alert(store_file, monkeypatch):
    from core.monitor import alert_store
    from core.views import today
    from tests.fixtures_worklist import TODAY, YESTERDAY, tiny_store

    tiny_store(store_file)
    seconds = views.refresh(store_file)
    assert "today" in seconds
    assert ("today", json.dumps({"as_of": str(TODAY)})) in manifests(store_file)
    computed: list[date] = []  # every live computation of the view, by day
    live_view = views.compute_today_view

    def counted(as_of: date, store_path: Any = None) -> dict[str, Any]:
        computed.append(as_of)
        return live_view(as_of, store_path)

    monkeypatch.setattr(views, "compute_today_view", counted)
    for day in (TODAY, YESTERDAY):  # yesterday: no day before, no matured forecasts (None fields)
        live = today.load_today(day, store_file)
        assert views.today_view(day, store_file) == live
        assert views.today_view(day, store_file) == live
    # refresh stored today's view: both reads come from its files; yesterday's is computed by the first
    # read only, and the second comes from the files that read wrote
    assert computed == [YESTERDAY]
    assert views.today_view(TODAY, store_file).alerts_open == 1
    before = view_files.inputs_fingerprint(store_file)
    open_alert = alert_store.read_alerts(None, store_file, status="open")["alert_id"].iloc[0]
    alert_store.set_alert_status(open_alert, "acknowledged", store_file)
    assert view_files.inputs_fingerprint(store_file) != before
    assert views.today_view(TODAY, store_file).alerts_open == 0
    assert computed == [YESTERDAY, TODAY]  # stale: computed again, once
    assert views.today_view(TODAY, store_file).alerts_open == 0
    assert computed == [YESTERDAY, TODAY]
