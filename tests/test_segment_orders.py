"""From a segment gap to its orders (core.monitor.segments.level_orders) and the Segments page's drill-down."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.errors import ConfigError
from core.monitor import segments
from tests.conftest import REPO_ROOT
from tests.test_accuracy import AS_OF, build_store
from tests.test_segments import forecasts

SEGMENTS_PAGE = REPO_ROOT / "pages" / "segments.py"


def test_the_orders_of_a_level_one_row_each_largest_first():
    frame = forecasts({"a": [10.0, 30.0], "b": [20.0]})
    repeat = frame.iloc[[0]].assign(abs_error_h=20.0, error_h=-20.0)  # a0 forecast again: its mean is 15
    estimate = frame.iloc[[1]].assign(order_id="e1", estimated=True, abs_error_h=1000.0)
    orders = segments.level_orders(pd.concat([frame, repeat, estimate]), None, "carrier", "a", "mae_h")
    assert orders.to_dict("records") == [
        {"order_id": "a1", "forecasts": 1, "mae_h": 30.0, "error_h": -30.0},
        {"order_id": "a0", "forecasts": 2, "mae_h": 15.0, "error_h": -15.0},
    ]


def test_a_share_is_on_the_tables_scale_and_keeps_both_errors():
    orders = segments.level_orders(forecasts({"a": [10.0, 30.0]}), None, "carrier", "a", "coverage_80_pct")
    assert orders.columns.tolist() == ["order_id", "forecasts", "coverage_80_pct", "error_h", "abs_error_h"]
    assert orders["coverage_80_pct"].tolist() == [100.0, 0.0]


def test_listing_figures_come_from_the_listings():
    listings = pd.DataFrame(
        {
            "order_id": ["x", "y", "z"],
            "carrier": ["a", "a", "b"],
            "estimated": [False, False, False],
            "stuck_prob": [0.9, 0.2, 0.5],
            "stuck_after": [1.0, 0.0, 0.0],
        }
    )
    orders = segments.level_orders(pd.DataFrame(), listings, "carrier", "a", "stuck_after_listing_pct")
    assert orders.to_dict("records") == [
        {"order_id": "x", "listings": 1, "stuck_after_listing_pct": 100.0},
        {"order_id": "y", "listings": 1, "stuck_after_listing_pct": 0.0},
    ]


def test_an_unknown_figure_is_refused():
    with pytest.raises(ConfigError, match="unknown segment figure 'speed'"):
        segments.level_orders(forecasts({"a": [1.0]}), None, "carrier", "a", "speed")


@pytest.mark.parametrize("metric", ["mae_h", "bias_h", "cost_per_forecast_eur", "stuck_after_listing_pct"])
def test_the_orders_are_the_tables_orders_and_give_its_figure(metric, store_file):
    build_store(store_file)
    table = segments.segment_table(store_file, as_of=AS_OF)
    rows = table.loc[table["metric"] == metric]
    assert len(rows)
    for row in rows.itertuples():
        orders = segments.load_level_orders(row.segment, row.level, metric, store_file, as_of=AS_OF)
        assert len(orders) == row.orders
        assert orders[metric].mean() == pytest.approx(row.figure)


def test_the_segments_page_lists_the_orders_of_the_chosen_gap(store_file, monkeypatch):
    build_store(store_file)
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_file))
    at = AppTest.from_file(str(SEGMENTS_PAGE), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    segment, level = at.selectbox(key="segments_level").value
    as_of = at.date_input(key="as_of_day").value
    expected = segments.load_level_orders(segment, level, "mae_h", store_file, as_of=as_of)
    assert len(expected)
    shown = at.dataframe[-1].value
    assert shown["order_id"].tolist() == expected["order_id"].tolist()
    assert shown["mae_h"].tolist() == pytest.approx(expected["mae_h"].tolist())
    # run alone (no navigation), the way to the order is a plain link to Order lookup's address
    first = expected["order_id"].iloc[0]
    assert at.markdown[-1].value == f"[Open {first} in Order lookup](order-lookup?order={first})"


def test_order_lookup_opens_the_order_of_its_address(store_file, monkeypatch):
    build_store(store_file)
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_file))
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "order_lookup.py"), default_timeout=60)
    at.query_params["order"] = "O1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="lookup_order").value == "O1"
    assert at.markdown[0].value.startswith("**O1** · placed")
    # typing another order is the user's choice: the address follows it, and it stays
    at.text_input(key="lookup_order").set_value("O2").run()
    assert (at.text_input(key="lookup_order").value, at.query_params["order"]) == ("O2", "O2")
