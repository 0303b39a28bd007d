"""Point-in-time prefix features: exact values on a tiny store, leakage, the leak rule, errors."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import features, store
from core.errors import ConfigError

T = datetime.fromisoformat

# Order 1: delivered without trouble. Order 2: a payment hold past its 48 h limit, then delivered.
ORDERS = [
    ("O1", "WH-A", "C1", "express"),
    ("O2", "WH-A", "C2", "standard"),
]
EVENTS = [
    ("O1", "placed", "2026-01-01 08:00"),
    ("O1", "payment_confirmed", "2026-01-01 09:00"),
    ("O1", "allocated", "2026-01-02 10:00"),
    ("O1", "delivered", "2026-01-03 12:00"),
    ("O2", "placed", "2026-01-01 10:00"),
    ("O2", "payment_hold", "2026-01-01 11:00"),
    ("O2", "payment_confirmed", "2026-01-03 12:00"),
    ("O2", "delivered", "2026-01-04 10:00"),
]


def write_world(path: Path, orders=ORDERS, events=EVENTS, event_attrs=None, order_attrs=None) -> None:
    """Fill a store with orders and events through plain inserts."""
    with store.transaction(path) as con:
        for order_id, warehouse, carrier, ship_mode in orders:
            con.execute(
                "insert into orders (order_id, warehouse, carrier, ship_mode, attrs, source, loaded_at) "
                "values ($o, $w, $c, $s, $a, 'test', now())",
                {
                    "o": order_id,
                    "w": warehouse,
                    "c": carrier,
                    "s": ship_mode,
                    "a": json.dumps((order_attrs or {}).get(order_id)) if order_attrs else None,
                },
            )
        for i, (order_id, stage, ts) in enumerate(events):
            attrs = (event_attrs or {}).get(i)
            con.execute(
                "insert into events values ($id, $o, $s, $ts, $a, 'test', now())",
                {"id": f"E{i:04d}", "o": order_id, "s": stage, "ts": T(ts), "a": json.dumps(attrs) if attrs else None},
            )


def row(frame: pd.DataFrame, order_id: str, prefix_len: int) -> pd.Series:
    hit = frame[(frame["order_id"] == order_id) & (frame["prefix_len"] == prefix_len)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_event_prefixes_have_exact_features_and_targets(store_file):
    write_world(store_file)
    frame = features.build_prefix_features(store_file, mode="events")
    # Terminal events are not prefixes of an open order: 3 per order.
    assert sorted(zip(frame["order_id"], frame["prefix_len"], strict=True)) == [
        ("O1", 1),
        ("O1", 2),
        ("O1", 3),
        ("O2", 1),
        ("O2", 2),
        ("O2", 3),
    ]
    o1 = row(frame, "O1", 2)
    assert o1["as_of_at"] == pd.Timestamp("2026-01-01 09:00")
    assert (o1["current_stage"], o1["prev_stage_1"], o1["prev_stage_2"]) == ("payment_confirmed", "placed", "(start)")
    assert o1["elapsed_h"] == 1.0
    assert o1["prev_step_h"] == 1.0
    assert o1["exceptions_so_far"] == 0
    assert o1["stall_limit_h"] == 36.0
    assert (o1["count__placed"], o1["count__payment_confirmed"], o1["count__allocated"]) == (1, 1, 0)
    assert o1["remaining_h"] == 51.0
    assert o1["stuck_label"] == 0
    assert o1["as_of_weekday"] == 4  # 2026-01-01 is a Thursday
    assert o1["carrier"] == "C1"

    o2_hold = row(frame, "O2", 2)
    assert o2_hold["exceptions_so_far"] == 1
    # The hold breaches its 48 h limit at 2026-01-03 11:00, after this prefix: it gets stuck.
    assert o2_hold["stuck_label"] == 1
    # Loads count strictly before 11:00: O1 and O2 open, O1 in payment_confirmed, O2's placed.
    assert (o2_hold["wip_all"], o2_hold["wip_warehouse"], o2_hold["wip_carrier"]) == (2, 2, 1)
    assert o2_hold["wip_stage"] == 0
    assert o2_hold["events_last_24h"] == 3
    o2_after = row(frame, "O2", 3)
    assert o2_after["time_in_stage_h"] == 0.0
    assert o2_after["prev_step_h"] == 49.0
    assert o2_after["stuck_label"] == 0  # the breach lies before this prefix, none after
    assert o2_after["remaining_h"] == 22.0


def test_snapshots_take_every_open_order_at_each_instant(store_file):
    write_world(store_file)
    frame = features.build_prefix_features(store_file, mode="snapshots", every_h=12.0, as_of=T("2026-01-04 12:00"))
    got = sorted(zip(frame["order_id"], frame["as_of_at"].astype(str), frame["prefix_len"], strict=True))
    assert got == [
        ("O1", "2026-01-01 12:00:00", 2),
        ("O1", "2026-01-02 00:00:00", 2),
        ("O1", "2026-01-02 12:00:00", 3),
        ("O1", "2026-01-03 00:00:00", 3),
        ("O2", "2026-01-01 12:00:00", 2),
        ("O2", "2026-01-02 00:00:00", 2),
        ("O2", "2026-01-02 12:00:00", 2),
        ("O2", "2026-01-03 00:00:00", 2),
        ("O2", "2026-01-03 12:00:00", 3),
        ("O2", "2026-01-04 00:00:00", 3),
    ]
    o2 = frame[(frame["order_id"] == "O2") & (frame["as_of_at"] == pd.Timestamp("2026-01-02 12:00"))].iloc[0]
    assert o2["time_in_stage_h"] == 25.0
    assert o2["stall_ratio"] == pytest.approx(25.0 / 48.0)
    assert o2["remaining_h"] == 46.0


def test_single_instant_scores_only_open_orders(store_file):
    write_world(store_file)
    frame = features.build_prefix_features(store_file, mode="single", as_of=T("2026-01-03 18:00"), with_targets=False)
    assert frame["order_id"].tolist() == ["O2"]
    assert frame["current_stage"].tolist() == ["payment_confirmed"]
    assert frame["time_in_stage_h"].tolist() == [6.0]
    assert "remaining_h" not in frame


FEATURE_SKIP = set(features.INFO_COLUMNS) | set(features.TARGET_COLUMNS)


def test_adding_events_after_t_never_changes_features_at_t(store_file, tmp_path):
    # A richer world: events after t for open orders, a new order, a new activity, new attributes.
    later = [
        ("O3", "placed", "2026-01-02 09:30"),
        ("O3", "payment_confirmed", "2026-01-02 11:00"),
    ]
    write_world(
        store_file,
        orders=[*ORDERS, ("O3", "WH-A", "C1", "express")],
        events=[e for e in EVENTS if T(e[2]) <= T("2026-01-02 10:00")] + later[:1],
        event_attrs={0: {"desk": "north"}},
    )
    t = T("2026-01-02 10:00")
    full = tmp_path / "full.duckdb"
    shutil.copy(store_file, full)
    with store.transaction(full) as con:
        extra = (
            [e for e in EVENTS if T(e[2]) > t]
            + later[1:]
            + [
                ("O3", "address_query", "2026-01-02 12:00"),
                ("O1", "audit", "2026-01-02 10:00"),  # same instant as t: after it by ordinal
            ]
        )
        for i, (order_id, stage, ts) in enumerate(extra):
            con.execute(
                "insert into events values ($id, $o, $s, $ts, $a, 'test', now())",
                {"id": f"X{i:04d}", "o": order_id, "s": stage, "ts": T(ts), "a": json.dumps({"desk": "south"})},
            )
    for mode in ("events", "snapshots"):
        before = features.build_prefix_features(store_file, mode=mode, every_h=3.0, as_of=t, completion="terminal")
        after = features.build_prefix_features(full, mode=mode, every_h=3.0, completion="terminal")
        after = after[after["as_of_at"] <= t]
        # The same prefixes, apart from O1's prefix 3 at t, which now has a tie-broken successor.
        keys = ["order_id", "as_of_at", "prefix_len"]
        merged = before.merge(after, on=keys, suffixes=("", "_after"), how="left", indicator=True)
        assert (merged["_merge"] == "both").all(), mode
        shared = [c for c in before.columns if c not in FEATURE_SKIP and c not in keys]
        for name in shared:
            left, right = merged[name], merged[f"{name}_after"]
            same = (left == right) | (left.isna() & right.isna())
            assert same.all(), f"{mode}: {name} changed"
        new_columns = [c for c in after.columns if c not in before.columns and c not in FEATURE_SKIP]
        for name in new_columns:
            assert (merged[name].fillna(0) == 0).all() if name.startswith("count__") else merged[name].isna().all()


def test_event_attributes_expand_generically_and_keep_the_latest_value(store_file):
    write_world(
        store_file,
        event_attrs={0: {"desk": "north", "amount": "12.5"}, 1: {"desk": "south"}},
        order_attrs={
            "O1": {"segment": "gold", "variant": "Variant 1"},
            "O2": {"segment": "blue", "variant": "Variant 2"},
        },
    )
    frame = features.build_prefix_features(store_file, mode="events")
    assert row(frame, "O1", 1)["event__desk"] == "north"
    assert row(frame, "O1", 2)["event__desk"] == "south"
    assert row(frame, "O1", 2)["event__amount"] == 12.5
    assert frame["event__amount"].dtype == np.float64
    assert row(frame, "O2", 1)["case__segment"] == "blue"
    categorical, numeric = features.split_columns(frame)
    assert {"event__desk", "case__segment", "current_stage"} <= set(categorical)
    assert {"event__amount", "elapsed_h", "count__placed"} <= set(numeric)


def test_leak_rule_drops_ids_and_variant_labels_but_keeps_real_attributes():
    # 40 cases in 4 variants; "label" names the variant, "ref" is unique, "tier" is a real attribute.
    cases = pd.DataFrame({"order_id": [f"c{i}" for i in range(40)]})
    cases["variant"] = [f"v{i % 4}" for i in range(40)]
    cases["case__label"] = cases["variant"].str.upper()
    cases["event__ref"] = [f"ref-{i}" for i in range(40)]
    cases["event__tier"] = ["gold" if i % 3 else "blue" for i in range(40)]
    cases["event__amount"] = np.arange(40.0)
    frame = pd.concat([cases.assign(prefix_len=k) for k in (1, 2)], ignore_index=True)
    dropped = features.find_leaking_columns(frame, ["case__label", "event__ref", "event__tier", "event__amount"])
    assert dropped == {
        "case__label": "variant-like: determined by the whole case's activity sequence",
        "event__ref": "id-like: more distinct values than half the cases",
    }


def test_unknown_mode_and_empty_store_are_clear_errors(store_file):
    write_world(store_file, orders=[], events=[])
    with pytest.raises(ConfigError, match="unknown prefix mode 'weekly'"):
        features.build_prefix_features(store_file, mode="weekly")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="the store holds no events"):
        features.build_prefix_features(store_file, mode="events")


def test_an_imported_log_completes_at_its_last_event(store_file):
    events = [
        ("T1", "Open", "2026-01-01 08:00"),
        ("T1", "Work", "2026-01-01 10:00"),
        ("T1", "Close", "2026-01-02 08:00"),
    ]
    write_world(store_file, orders=[("T1", None, None, None)], events=events)
    assert features.detect_completion(store_file) == "last_event"
    frame = features.build_prefix_features(store_file, mode="events")
    assert frame["remaining_h"].tolist() == [24.0, 22.0, 0.0]
    assert frame["order_events"].tolist() == [3, 3, 3]


def test_open_orders_as_of_a_day_see_everything_on_that_day(store_file):
    write_world(store_file)
    frame = features.build_open_order_features(store_file, datetime(2026, 1, 3).date())
    # By the end of 3 January O1 is delivered and O2 has left its hold (12:00).
    assert frame["order_id"].tolist() == ["O2"]
    assert frame["current_stage"].tolist() == ["payment_confirmed"]
    assert frame["prefix_len"].tolist() == [3]
