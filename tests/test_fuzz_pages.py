"""Bad input through every page widget: each page runs in AppTest on the small demo world as an
admin, then every widget it shows (selectbox, multiselect, text_input, number_input, date_input,
slider, toggle, checkbox, radio) is set to its edge values (empty, both ends, unicode, control
characters, a 5,000-character text, the widest dates the widget allows) and the page reruns.

The property after every rerun: no exception on the page, no traceback text anywhere on it, and the
store's content exactly as it was (a widget only changes what is shown; saving needs a button).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT
from tests.fixtures import ORDER_WORLD_EVENTS, demo_store, write_events
from tests.test_fuzz_cli import digest
from tests.test_serving import trained_store

PAGE_FILES = sorted((REPO_ROOT / "pages").glob("*.py"))
TIMEOUT_S = 90
TEXTS = ["", "   ", "\x00", "\x1b[31mred\x1b[0m\u202e", "日本語 🚚", "' or 1=1 --", "x" * 5000, "O0000001\n"]
WIDGET_KINDS = ("selectbox", "multiselect", "text_input", "number_input", "date_input", "slider", "toggle", "checkbox")


def hostile_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small order world with an open alert and an API token whose texts carry escapes,
    bidi overrides and a 5,000-character tail: the Operations page's selectboxes show them."""
    from core.access import auth
    from core.monitor import alert_store, alerts

    path = tmp_path_factory.mktemp("hostile") / "journeyops.duckdb"
    write_events(path, ORDER_WORLD_EVENTS)
    odd = "\x1b[31m\u202e<!channel> 日本" + "x" * 5000
    alert = alerts.Alert(date(2026, 3, 10), "stale_feed", "warning", odd[:200], odd, 30.0, 24.0)
    alert_store.store_alerts([alert], path)
    auth.create_token("reader", odd[:100], store_path=path)
    return path


@pytest.fixture(scope="module", params=["demo", "trained", "hostile"])
def world_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The demo world (20 days, no models, no daily run) and the API's trained world (champions, a
    morning's forecasts and triage list): between them every page shows its widgets."""
    if request.param == "demo":
        return request.param, demo_store(tmp_path_factory)
    if request.param == "hostile":
        return request.param, hostile_world(tmp_path_factory)
    return request.param, trained_store(tmp_path_factory).path


def edge_values(kind: str, widget: Any) -> list[Any]:
    """What a user can put into this widget at its edges."""
    proto = widget.proto
    if kind == "text_input":
        return TEXTS
    if kind in ("toggle", "checkbox"):
        return [True, False]
    if kind == "selectbox":
        options = list(widget.options)
        return options[:1] + options[-1:]
    if kind == "multiselect":
        return [[], list(widget.options)] if widget.options else [[]]
    if kind == "number_input":
        low = proto.min if proto.has_min else -1e15
        high = proto.max if proto.has_max else 1e15
        return [low, high, 0.0 if low <= 0 <= high else low]
    if kind == "slider":
        low, high = widget.min, widget.max
        return [(low, low), (high, high), (low, high)] if isinstance(widget.value, tuple) else [low, high]
    if kind == "date_input":
        low = widget.min if widget.min is not None else date(1970, 1, 1)
        high = widget.max if widget.max is not None else date(2199, 12, 31)
        if isinstance(widget.value, tuple):
            return [(low, low), (high, high), (high, high) if low == high else (low, high)]
        return [low, high]
    raise AssertionError(kind)


def assert_calm(at: AppTest, what: str) -> None:
    assert not at.exception, (what, [e.message for e in at.exception])
    shown = " ".join(str(getattr(el, "value", "")) for el in at.main) + " ".join(
        str(getattr(el, "value", "")) for el in at.sidebar
    )
    assert "Traceback" not in shown, what
    assert "/site-packages/" not in shown, what


def widgets(at: AppTest) -> list[tuple[str, Any]]:
    return [(kind, w) for kind in WIDGET_KINDS for w in getattr(at, kind) if not w.disabled]


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_widget_at_its_edges(page: Path, world_store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch):
    world, path = world_store
    monkeypatch.setenv("JOURNEYOPS_STORE", str(path))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")
    before = digest(path)
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT_S).run()
    assert_calm(at, f"{page.stem} first run")
    tried = 0
    for kind, key in [(k, w.key) for k, w in widgets(at)]:
        for value in edge_values(kind, at_widget(at, kind, key)):
            widget = at_widget(at, kind, key)
            if widget is None:  # the last value took this widget off the page
                break
            widget.set_value(value)
            at.run()
            tried += 1
            assert_calm(at, f"{page.stem}: {kind} {key!r} = {value!r:.60}")
    assert digest(path) == before, page.stem
    assert (tried > 0) == (page.stem in PAGES_WITH_WIDGETS[world]), (page.stem, world, tried)


def at_widget(at: AppTest, kind: str, key: str | None) -> Any:
    found = [w for w in getattr(at, kind) if w.key == key]
    return found[0] if found else None


# The pages that show widgets on each world: a page that stopped showing them (or a world that
# stopped reaching them) would make the test pass without trying anything.
ALWAYS = {"benefits", "data_quality", "drift", "forecast_accuracy", "order_lookup", "process_insights", "segments"}
PAGES_WITH_WIDGETS = {"demo": ALWAYS, "trained": ALWAYS | {"at_risk", "models"}, "hostile": ALWAYS | {"operations"}}
