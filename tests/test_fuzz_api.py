"""Bad input through the API, beyond tests/test_api_schemathesis.py (which calls every operation
from the schema): Hypothesis strategies for every route's path and query parameters and for the
posted journey (bad timestamps, huge strings, control characters, nested junk, bodies that are not
JSON). The property: never a 5xx; a 4xx carries a JSON `detail`; no server path in any body; and the
store's content is exactly what it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import deps
from api.main import create_app
from api.settings import Settings
from core import store
from core.access import auth
from tests.conftest import REPO_ROOT
from tests.test_fuzz_cli import EDGE_TEXT, ODD_DATES, digest
from tests.test_serving import TrainedStore, trained_store

TOKEN = "fuzz-admin-token"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    return trained_store(tmp_path_factory)


@pytest.fixture(scope="module")
def client(world: TrainedStore) -> TestClient:
    app = create_app(Settings(store_path=str(world.path), rate_per_s=1e6, rate_burst=1_000_000))
    admin = auth.TokenRecord("tok_fz", "fuzz", "admin", auth.hash_token(TOKEN), store.utcnow(), None)
    app.dependency_overrides[deps.get_active_tokens] = lambda: [admin]
    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture(scope="module")
def before(world: TrainedStore) -> dict[str, tuple[int, int]]:
    return digest(world.path)


def check(world: TrainedStore, response: Any, before: dict[str, tuple[int, int]]) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:500])
    text = response.text
    for server_path in (str(world.path.parent), str(REPO_ROOT), "/site-packages/"):
        assert server_path not in text, text[:500]
    assert "Traceback" not in text
    if 400 <= response.status_code < 500:
        assert "detail" in response.json(), text[:500]
    assert digest(world.path) == before


texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=40), st.text(min_size=150, max_size=400))
numbers = st.one_of(
    st.sampled_from(["-1", "0", "1", "501", "1e400", "nan", "inf", "-0", "0x10", "", "1.5", "99999999999999999999"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
dates = st.one_of(st.sampled_from(ODD_DATES), st.sampled_from(EDGE_TEXT), st.text(max_size=12))


@given(order_id=texts)
@FUZZ
def test_order_path(world, client, before, order_id: str):
    response = client.get(f"/v1/orders/{quote(order_id, safe='')}/forecast")
    check(world, response, before)
    assert response.status_code in (200, 404, 422), response.text[:300]


@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "as_of": dates,
            "limit": numbers,
            "min_stuck_prob": numbers,
            "warehouse": texts,
            "carrier": texts,
            "region": texts,
            "unknown_param": texts,
        },
    )
)
@FUZZ
def test_at_risk_query(world, client, before, params: dict[str, str]):
    response = client.get("/v1/at-risk", params=params)
    check(world, response, before)
    assert response.status_code in (200, 422), response.text[:300]


@given(path=st.sampled_from(["/healthz", "/readyz", "/metrics"]), params=st.dictionaries(texts, texts, max_size=3))
@settings(FUZZ, max_examples=15)
def test_health_routes_ignore_junk_queries(world, client, before, path: str, params: dict[str, str]):
    check(world, client.get(path, params=params), before)


# The posted journey: a valid one with one part replaced by junk, or junk throughout.
BAD_INSTANTS = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-02-30T00:00:00",
    "1969-12-31T23:59:59",
    "2200-01-01T00:00:00",
    "1970-01-01T00:00:00+14:00",
    "",
    "x" * 10_000,
    "2026-03-02T08:00:00\x00",
    1e20,
    -1,
    True,
    None,
]
json_junk = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
junk = st.one_of(
    st.sampled_from(BAD_INSTANTS),
    texts,
    st.text(min_size=201, max_size=300),
    st.just("\x1b[31m\u202e\x00\x07"),
    json_junk,
)


def valid_body() -> dict[str, Any]:
    return {
        "order": {"order_id": "FZ-1", "placed_at": "2026-03-02T08:00:00", "warehouse": "WH1", "attrs": {"k": "v"}},
        "events": [{"stage": "placed", "event_ts": "2026-03-02T08:00:00", "attrs": {"a": 1}}],
        "as_of": "2026-03-02T09:00:00",
    }


PLACES = [
    ("order", "order_id"),
    ("order", "placed_at"),
    ("order", "promised_at"),
    ("order", "order_value"),
    ("order", "items"),
    ("order", "channel"),
    ("order", "attrs"),
    ("events", 0, "stage"),
    ("events", 0, "event_ts"),
    ("events", 0, "event_id"),
    ("events", 0, "attrs"),
    ("as_of",),
    ("order",),
    ("events",),
    ("events", 0),
]


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(json_junk)
    body: Any = valid_body()
    for _ in range(draw(st.integers(1, 3))):
        *parents, last = draw(st.sampled_from(PLACES))
        target = body
        try:
            for key in parents:
                target = target[key]
            target[last] = draw(junk)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement took the parent away
    return body


@given(body=bodies())
@settings(FUZZ, max_examples=60)
def test_score_body(world, client, before, body: Any):
    response = client.post("/v1/score", json=body)
    check(world, response, before)
    assert response.status_code in (200, 422), response.text[:300]


@given(raw=st.one_of(st.binary(max_size=200), st.sampled_from([b"{", b"\xff\xfe", b"[]" * 100, b'{"order":' * 50])))
@settings(FUZZ, max_examples=20)
def test_score_raw_bytes(world, client, before, raw: bytes):
    response = client.post("/v1/score", content=raw, headers={"Content-Type": "application/json"})
    check(world, response, before)
    assert response.status_code in (400, 413, 422), response.text[:300]
