"""Triage list: expected cost, ranking, the stable holdout, the simulated team, and reading the list."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from core import store
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.triage import ranking
from core.triage.ranking import TriageSettings


def scored_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4"],
            "stuck_prob": [0.5, 0.5, 0.2, 0.9],
            "customer_tier": ["vip", "standard", "standard", "plus"],
            "ship_mode": ["standard", "express", "standard", "standard"],
            "current_stage": ["packed", "shipped", "placed", "stock_shortage"],
        }
    )


def test_expected_cost_is_probability_times_the_orders_stuck_cost() -> None:
    costs = CostAssumptions(missed_stuck_cost=40.0, sla_breach_cost=15.0)
    listed = ranking.build_triage_list(scored_orders(), costs, TriageSettings(capacity=3, holdout_share=0.0))
    # O4: 0.9 * 40 * 1.25 = 45; O2: 0.5 * (40 + 15) = 27.5; O1: 0.5 * 40 * 1.5 = 30; O3 is cut (list of 3).
    assert listed["order_id"].tolist() == ["O4", "O1", "O2"]
    assert listed["expected_cost"].tolist() == pytest.approx([45.0, 30.0, 27.5])
    assert listed["rank"].tolist() == [1, 2, 3]


def test_ties_break_by_order_id() -> None:
    same = pd.DataFrame({"order_id": ["B", "A", "C"], "stuck_prob": [0.3, 0.3, 0.3]})
    listed = ranking.build_triage_list(same, settings=TriageSettings(capacity=5, holdout_share=0.0))
    assert listed["order_id"].tolist() == ["A", "B", "C"]


def test_shortlist_keeps_the_rows_that_can_make_the_list_ties_included() -> None:
    orders = pd.DataFrame(
        {
            "order_id": ["E", "D", "C", "B", "A"],
            "customer_tier": ["standard"] * 5,
            "ship_mode": ["standard"] * 5,
        }
    )
    scores = pd.DataFrame({"stuck_prob": [0.9, 0.3, 0.1, 0.3, np.nan]})
    settings = TriageSettings(capacity=2, holdout_share=0.0)
    short = ranking.shortlist(orders, scores, settings=settings)
    # The 2nd highest cost is 0.3 * 40: D and B tie there, so both stay; C and the unscored A cannot make it.
    assert short["order_id"].tolist() == ["E", "D", "B"]
    pd.testing.assert_frame_equal(
        ranking.build_triage_list(short, settings=settings),
        ranking.build_triage_list(orders.join(scores), settings=settings),
    )
    assert ranking.build_triage_list(short, settings=settings)["order_id"].tolist() == ["E", "B"]


def test_list_size_leaves_capacity_after_the_holdout() -> None:
    assert TriageSettings(capacity=50, holdout_share=0.1).list_size == 56
    assert TriageSettings(capacity=10, holdout_share=0.0).list_size == 10


def test_holdout_is_a_stable_share_independent_of_the_list() -> None:
    ids = pd.Series([f"O{i:07d}" for i in range(20_000)])
    settings = TriageSettings()
    flags = ranking.is_held_out(ids, settings)
    assert 0.09 < flags.mean() < 0.11
    # The same order gets the same answer in any list it appears in, on any day.
    subset = ids.iloc[[5, 17, 999, 12_345]].reset_index(drop=True)
    assert ranking.is_held_out(subset, settings).tolist() == flags[[5, 17, 999, 12_345]].tolist()
    # Another salt draws another holdout.
    other = ranking.is_held_out(ids, TriageSettings(holdout_salt="other"))
    assert (other != flags).any()


def test_holdout_share_zero_holds_out_nothing() -> None:
    listed = ranking.build_triage_list(scored_orders(), settings=TriageSettings(capacity=4, holdout_share=0.0))
    assert not listed["held_out"].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"holdout_share": 1.0}, "holdout share must be in"), ({"capacity": 0}, "capacity must be at least 1")],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TriageSettings(**kwargs)


def test_simulated_team_works_the_top_shown_rows_only() -> None:
    listed = ranking.build_triage_list(scored_orders(), settings=TriageSettings(capacity=4, holdout_share=0.0))
    listed.loc[listed["order_id"] == "O1", "held_out"] = True
    actions = ranking.simulated_actions(
        listed, date(2026, 3, 2), datetime(2026, 3, 3), TriageSettings(capacity=2, holdout_share=0.0)
    )
    assert actions["order_id"].tolist() == ["O4", "O2"]
    assert actions["action"].tolist() == ["chased_warehouse", "chased_carrier"]
    assert set(actions["actor"]) == {ranking.SIM_ACTOR}
    assert actions["acted_at"].iloc[0] == pd.Timestamp("2026-03-03 09:00")
    assert actions["action_id"].is_unique


def test_read_triage_list_never_shows_held_out_rows(store_file) -> None:
    listed = ranking.build_triage_list(scored_orders(), settings=TriageSettings(capacity=4, holdout_share=0.0))
    listed["held_out"] = listed["order_id"].eq("O1")
    rows = listed.assign(
        as_of_date=date(2026, 3, 2),
        reasons="[]",
        eta_p10_at=pd.NaT,
        eta_p50_at=pd.NaT,
        eta_p90_at=pd.NaT,
        created_at=datetime(2026, 3, 3),
    )
    with store.transaction(store_file) as con:
        con.register("triage_rows", rows)
        con.execute(store.load_sql("triage_insert"))
    shown = ranking.read_triage_list(None, store_file)
    assert shown["order_id"].tolist() == ["O4", "O2", "O3"]
    assert shown["rank"].tolist() == [1, 3, 4]
    everything = ranking.read_triage_list(date(2026, 3, 5), store_file, include_held_out=True)
    assert np.sort(everything["order_id"].to_numpy()).tolist() == ["O1", "O2", "O3", "O4"]
    assert ranking.read_triage_list(date(2026, 3, 1), store_file).empty
