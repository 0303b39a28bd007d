"""The realistic feed: the world's landing files carry late, out-of-order, re-sent and malformed rows
(world.toml's [feed_defects]); the contract removes exactly what was injected, the world's history and
every figure but the data-quality ones stay those of the clean feed.

Two small closed-loop worlds (the same seed, one with the default defects, one with `clean_feed`) are
built once for the module: a pre-model period, quick champions, then three daily runs of the loop.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_limits

from core import store
from core.domain import MODEL_KINDS, end_of_day
from core.ingest import landing
from core.jobs import closed_loop, daily, retraining
from core.monitor import validity
from core.monitor.alerts import DEFAULT_RULES
from core.registry import promotion, versions
from core.registry.gate import GatePolicy
from core.world import defects, simulate
from tests.conftest import REPO_ROOT

SEED = 3
START = date(2026, 3, 2)
PRE_MODEL_DAYS = 21
LOOP_DAYS = 3
GO_LIVE = START + timedelta(days=PRE_MODEL_DAYS)
END = GO_LIVE + timedelta(days=LOOP_DAYS - 1)
ORDERS_PER_DAY = 60


@dataclass(frozen=True)
class Worlds:
    defective: Path
    clean: Path


def build_world(root: Path, clean_feed: bool) -> Path:
    """The closed-loop demo at test scale, as `build_demo_history` builds it (quick champions)."""
    path = root / "journeyops.duckdb"
    closed_loop.build_demo_history(
        path,
        days=PRE_MODEL_DAYS,
        orders_per_day=ORDERS_PER_DAY,
        seed=SEED,
        train=False,
        end=GO_LIVE - timedelta(days=1),
        progress=False,
        clean_feed=clean_feed,
    )
    with threadpool_limits(1):
        retraining.retrain(
            path,
            as_of=end_of_day(GO_LIVE - timedelta(days=1)),
            actor="test",
            policy=GatePolicy(auto_promote=True),
            max_rows=3_000,
            model_params={"max_iter": 30},
        )
    for kind in MODEL_KINDS:  # a quick model may miss the gate; the loop needs a champion either way
        if versions.get_champion(kind, path) is None:
            promotion.promote(
                f"{kind}-v1", actor="test", reason="fixture", expected_champion=None, store_path=path, force=True
            )
    world = closed_loop.load_world(path)
    assert world is not None and world.clean_feed is clean_feed
    folder = closed_loop.landing_dir(path)
    state = closed_loop.world_state_file(path)
    with threadpool_limits(1):
        daily.run_backfill(
            GO_LIVE,
            END,
            path,
            feed=closed_loop.world_feed(world, path, folder, state),
            landing_dir=folder,
            settings=closed_loop.demo_settings(),
            retrain=False,
            progress=False,
        )
    return path


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Worlds:
    return Worlds(
        build_world(tmp_path_factory.mktemp("defective"), clean_feed=False),
        build_world(tmp_path_factory.mktemp("clean"), clean_feed=True),
    )


def read(path: Path, sql: str) -> pd.DataFrame:
    with store.connect(path, read_only=True) as con:
        return con.execute(sql).df()


def quarantine_by_day(path: Path) -> dict[str, Counter[str]]:
    rows = read(path, "select source, reason from quarantine")
    days = rows["source"].str.extract(r"_(\d{4}-\d{2}-\d{2})\.")[0]
    return {day: Counter(group["reason"]) for day, group in rows.groupby(days)}


# ---- the injector on its own ---------------------------------------------------------------------


# Seed 3, 200 orders a day, 3 days, 8% of the rows defective: the contract's reasons, exactly.
INJECTED_REASONS = {
    "contact_at in the future": 2,
    "contact_id already in an earlier file with different content": 2,
    "event_id already in an earlier file with different content": 34,
    "event_ts in the future": 34,
    "missing contact_at": 1,
    "missing event_id": 7,
    "missing event_ts": 7,
    "missing order_id": 13,
    "missing placed_at": 2,
    "missing stage": 11,
    "order_id already in an earlier file with different content": 6,
    "placed_at in the future": 6,
    "unknown stage 'SHIPPED'": 12,
    "unknown stage 'in_transit'": 13,
    "unknown stage 'returned_to_sender'": 9,
    "unparseable contact_at": 3,
    "unparseable event_ts": 35,
    "unparseable placed_at": 2,
    "unparseable promised_at": 4,
}


def some_contacts(orders: pd.DataFrame) -> pd.DataFrame:
    picked = orders.iloc[::4]
    return pd.DataFrame(
        {
            "contact_id": "C" + picked["order_id"].str[1:] + "-01",
            "order_id": picked["order_id"],
            "contact_at": picked["placed_at"] + pd.Timedelta(minutes=30),
            "reason": "change_request",
        }
    ).reset_index(drop=True)


def test_the_contract_removes_exactly_what_was_injected(tmp_path: Path) -> None:
    # A share far above the default, so that orders and contacts get every sort of defect too.
    every_sort = defects.read_feed_defects({"share": 0.08, "mix": dict.fromkeys(defects.SORTS, 1)})
    config = replace(simulate.load_world_config(), feed_defects=every_sort)
    world = simulate.World(config, seed=SEED, start=START, orders_per_day=200)
    folder = tmp_path / "landing"
    folder.mkdir()
    # The world's first days have no contacts yet (nobody is late): give each day some, from its orders.
    feeds = [replace(f, contacts=some_contacts(f.orders)) for f in (world.step() for _ in range(3))]
    expected_reasons: Counter[str] = Counter()
    expected_duplicates = 0
    for feed in feeds:
        injected = world.landing_day(feed)
        expected_reasons.update(injected.reasons)
        expected_duplicates += sum(injected.duplicates.values())
        assert injected.moved["events"] > 0 and injected.moved["orders"] == injected.moved["contacts"] == 0
        written = [p.name for p in world.write_feed(feed, folder)]
        # The main files, then the late deliveries (the late events and every defective copy).
        assert (
            written[:4]
            == [
                f"orders_{feed.day}.parquet",
                f"events_{feed.day}.parquet",
                f"contacts_{feed.day}.parquet",
                f"orders_late_{feed.day}.csv",
            ][: len(written[:4])]
        )
        assert f"events_late_{feed.day}.csv" in written
    summary = landing.ingest_paths([folder], store_path=tmp_path / "s.duckdb", now=end_of_day(feeds[-1].day))
    assert summary["rejected"] == []
    quarantined = read(tmp_path / "s.duckdb", "select source, reason from quarantine")
    assert Counter(quarantined["reason"]) == expected_reasons
    assert quarantined["source"].str.contains("_late_").all()
    assert expected_reasons == INJECTED_REASONS
    assert summary["rows_quarantined"] == sum(INJECTED_REASONS.values()) == 203
    assert summary["rows_duplicate"] == expected_duplicates == 41
    truth = {kind: pd.concat([getattr(f, kind) for f in feeds]) for kind in ("orders", "events", "contacts")}
    assert summary["rows_loaded"] == {kind: len(frame) for kind, frame in truth.items()}
    stored = read(tmp_path / "s.duckdb", "select event_id, order_id, stage, event_ts from events")
    expected = truth["events"].assign(event_ts=lambda f: f["event_ts"].dt.tz_localize(None))
    assert set(stored.itertuples(index=False, name=None)) == set(
        expected[list(stored.columns)].itertuples(index=False, name=None)
    )


def test_defects_draw_from_their_own_stream_and_a_clean_feed_is_the_old_one(tmp_path: Path) -> None:
    config = simulate.load_world_config()
    with_defects = simulate.World(config, seed=SEED, start=START, orders_per_day=50)
    clean = simulate.World(config, seed=SEED, start=START, orders_per_day=50, clean_feed=True)
    for _ in range(3):
        a, b = with_defects.step(), clean.step()
        # The world's history is the same whether its files carry defects or not.
        assert a.events.equals(b.events) and a.orders.equals(b.orders) and a.contacts.equals(b.contacts)
        clean_day = clean.landing_day(b)
        assert clean_day.late == {} and all(clean_day.main[k] is getattr(b, k) for k in clean_day.main)
        # Deterministic for a seed and day, whatever ran before.
        first, again = with_defects.landing_day(a), with_defects.landing_day(a)
        assert first.reasons == again.reasons and first.late["events"].equals(again.late["events"])
    assert with_defects.rng.bit_generator.state == clean.rng.bit_generator.state


def test_share_zero_is_a_clean_feed_and_a_bad_mix_is_refused() -> None:
    assert defects.read_feed_defects({"share": 0, "mix": {"late": 1}}) is defects.CLEAN
    assert not defects.read_feed_defects(None).active
    shares = defects.read_feed_defects({"share": 0.01, "mix": {"late": 3, "future_ts": 1}}).shares
    assert shares["late"] == pytest.approx(0.0075) and shares["future_ts"] == pytest.approx(0.0025)
    assert shares["exact_resend"] == 0.0
    with pytest.raises(Exception, match=r"\[feed_defects.mix\] has unknown sorts \['typo'\]"):
        defects.read_feed_defects({"share": 0.01, "mix": {"typo": 1}})
    with pytest.raises(Exception, match="share must be within 0..0.2"):
        defects.read_feed_defects({"share": 0.5, "mix": {"late": 1}})


def test_the_default_feed_is_untidy_every_day_but_below_the_validity_alert() -> None:
    config = simulate.load_world_config()
    assert sum(config.feed_defects.shares.values()) == pytest.approx(0.008)
    (threshold,) = [r.threshold for r in DEFAULT_RULES if r.name == "validity_failures"]
    world = simulate.World(config, seed=7, start=START, orders_per_day=600)  # the demo's default size
    shares = []
    for _ in range(8):
        feed = world.step()
        quarantined = sum(world.landing_day(feed).reasons.values())
        shares.append(quarantined / (len(feed.orders) + len(feed.events) + len(feed.contacts) + quarantined))
    assert 0 < min(shares) and max(shares) < threshold


def test_demo_clean_feed_flag_writes_the_clean_feed_and_keeps_it(tmp_path: Path) -> None:
    from core.cli import main

    path = tmp_path / "journeyops.duckdb"
    args = ["demo", "--store", str(path), "--days", "3", "--orders-per-day", "20", "--skip-training", "--clean-feed"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(args) == 0
    assert read(path, "select count(*) as n from quarantine")["n"][0] == 0
    assert not list(closed_loop.landing_dir(path).glob("*_late_*"))
    world = closed_loop.load_world(path)  # the next daily run writes the clean feed too
    assert world is not None and world.clean_feed and not world.feed_defects.active


# ---- the closed loop -------------------------------------------------------------------------------

# The contract's reasons per day of the loop (seed 3, 60 orders a day, the default shares).
# At this size only the events are large enough for defects: one of each quarantined sort a day.
EXPECTED_LOOP_REASONS: dict[str, dict[str, int]] = {
    "2026-03-23": {
        "event_id already in an earlier file with different content": 1,
        "event_ts in the future": 1,
        "missing stage": 1,
        "unknown stage 'SHIPPED'": 1,
        "unparseable event_ts": 1,
    },
    "2026-03-24": {
        "event_id already in an earlier file with different content": 1,
        "event_ts in the future": 1,
        "missing order_id": 1,
        "unknown stage 'in_transit'": 1,
        "unparseable event_ts": 1,
    },
    "2026-03-25": {
        "event_id already in an earlier file with different content": 1,
        "event_ts in the future": 1,
        "missing event_ts": 1,
        "unknown stage 'in_transit'": 1,
        "unparseable event_ts": 1,
    },
}


def test_every_day_quarantines_rows_with_the_expected_reasons(worlds: Worlds) -> None:
    by_day = quarantine_by_day(worlds.defective)
    days = [(START + timedelta(days=i)).isoformat() for i in range(PRE_MODEL_DAYS + LOOP_DAYS)]
    assert sorted(by_day) == days  # every day of the history, the pre-model period and the loop
    assert {day: dict(sorted(by_day[day].items())) for day in days[-LOOP_DAYS:]} == EXPECTED_LOOP_REASONS
    assert read(worlds.clean, "select count(*) as n from quarantine")["n"][0] == 0
    # Each daily run's batch is its day's files, late deliveries included.
    batches = validity.read_validity(None, worlds.defective).drop_duplicates("as_of").sort_values("as_of")
    assert batches["batch_rows_quarantined"].tolist() == [sum(r.values()) for r in EXPECTED_LOOP_REASONS.values()]


def test_stored_events_are_those_of_the_clean_feed(worlds: Worlds) -> None:
    for table, keys in (
        ("events", "event_id, order_id, stage, event_ts"),
        ("orders", "order_id, placed_at, channel, region, order_value, items, promised_at"),
        ("contacts", "contact_id, order_id, contact_at, reason"),
    ):
        sql = f"select {keys} from {table} order by all"  # noqa: S608 - fixed names of this test
        defective, clean = read(worlds.defective, sql), read(worlds.clean, sql)
        assert len(clean) > 0 or table == "contacts"
        assert defective.equals(clean), table


def test_the_days_predictions_and_list_are_those_of_the_clean_feed(worlds: Worlds) -> None:
    for sql in (
        "select as_of_date, order_id, role, p10_h, p50_h, p90_h, stuck_prob from predictions order by all",
        "select as_of_date, order_id, rank, expected_cost, stuck_prob, held_out, reasons, eta_p50_at "
        "from triage_list order by all",
        "select order_id, shown_from, eta_at, source from eta_shown order by all",
        "select as_of_date, order_id, action from triage_actions order by all",
    ):
        defective, clean = read(worlds.defective, sql), read(worlds.clean, sql)
        assert len(clean) > 0, sql
        pd.testing.assert_frame_equal(defective, clean, check_exact=True)


def test_data_quality_page_shows_quarantined_rows_and_reasons(worlds: Worlds, monkeypatch) -> None:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(worlds.defective))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "data_quality.py"), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.success  # not "no row failed a contract"
    reasons, quarantined = at.dataframe[-2].value, at.dataframe[-1].value
    last = EXPECTED_LOOP_REASONS[END.isoformat()]
    shown = reasons[pd.to_datetime(reasons["as_of"]).dt.date == END]
    assert dict(zip(shown["reason"], shown["rows_quarantined"], strict=True)) == last
    assert len(quarantined) > 0 and quarantined["reason"].notna().all()
