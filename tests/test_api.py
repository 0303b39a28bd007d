"""The serving API through TestClient: every route, every auth case, limits, reload after promotion,
online/batch parity over HTTP, errors without stack traces."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_limits

from api import deps
from api.main import create_app
from api.openapi import SCHEMA_FILE, render_schema
from api.settings import Settings
from core import store
from core.access import auth
from core.registry import promotion
from core.scoring import serving
from tests.fixtures import store_held_by_a_job
from tests.test_serving import TrainedStore, batch_scores, copy_store, stored_journey, trained_store


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    """A private copy of the session's trained store, with one token per role and a revoked one."""
    shared = trained_store(tmp_path_factory)
    path = copy_store(shared.path, tmp_path_factory.mktemp("api"))
    return TrainedStore(path, shared.as_of_at, shared.as_of_date, shared.candidate_forecaster)


@pytest.fixture(scope="module")
def tokens(world: TrainedStore) -> dict[str, str]:
    made = {role: auth.create_token(role, f"test {role}", world.path)[1] for role in auth.ROLES}
    record, made["revoked"] = auth.create_token("admin", "gone", world.path)
    auth.revoke_token(record.token_id, world.path)
    return made


def settings_for(path: Path, **overrides: object) -> Settings:
    return Settings(store_path=str(path), champion_check_s=0, **overrides)


@pytest.fixture
def client(world: TrainedStore) -> TestClient:
    return TestClient(create_app(settings_for(world.path)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def journey_body(journey: serving.Journey, as_of=None) -> dict:
    order = {"order_id": journey.order_id}
    for name, value in journey.attributes.items():
        if value is not None:
            order[name] = value.isoformat() if hasattr(value, "isoformat") else value
    events = [{"stage": e.stage, "event_ts": e.event_ts.isoformat(), "event_id": e.event_id} for e in journey.events]
    body = {"order": order, "events": events}
    if as_of is not None:
        body["as_of"] = as_of.isoformat()
    return body


# ---------------------------------------------------------------- health, readiness, metrics, schema


def test_healthz_needs_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


def test_readyz_reports_store_and_champions_to_a_token_holder(client, tokens):
    response = client.get("/readyz", headers=bearer(tokens["reader"]))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["champions"] == {"forecaster": "forecaster-v1", "stuck_classifier": "stuck_classifier-v1"}
    assert body["checks"]["store"]["triage_rows"] == 30


def test_readyz_is_503_without_a_champion_or_a_store(tmp_path):
    empty = tmp_path / "empty.duckdb"
    with store.connect(empty):
        pass
    fake = auth.TokenRecord("tok_fake", None, "reader", auth.hash_token("t"), store.utcnow(), None)
    for path in (empty, tmp_path / "nowhere.duckdb"):
        app = create_app(settings_for(path))
        app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
        assert TestClient(app).get("/readyz").json() == {"status": "not ready", "checks": {}}
        response = TestClient(app).get("/readyz", headers=bearer("t"))
        assert response.status_code == 503
        checks = response.json()["checks"]
        if path == empty:
            assert "no forecaster and no stuck_classifier champion" in checks["error"]
        else:
            assert checks["error"].startswith("no store at <path>;")


def test_metrics_count_requests_latency_errors_and_model_versions(client, tokens):
    client.get("/v1/orders/nope/forecast", headers=bearer(tokens["reader"]))
    client.get("/v1/orders/nope/forecast", headers=bearer(tokens["reader"]))
    client.get("/v1/at-risk", headers=bearer(tokens["reader"]))
    text = client.get("/metrics", headers=bearer(tokens["reader"])).text
    assert 'journeyops_api_requests_total{route="/v1/orders/{order_id}/forecast",method="GET",status="404"} 2' in text
    assert 'journeyops_api_requests_total{route="/v1/at-risk",method="GET",status="200"} 1' in text
    assert (
        'journeyops_api_request_duration_seconds_count{route="/v1/orders/{order_id}/forecast",method="GET"} 2' in text
    )
    assert 'journeyops_api_request_duration_seconds_bucket{route="/v1/at-risk",method="GET",le="+Inf"} 1' in text
    assert 'journeyops_model_version{kind="forecaster",version="forecaster-v1"} 1' in text
    assert "# TYPE journeyops_api_errors_total counter" in text


def test_served_openapi_schema_equals_the_checked_in_one(world):
    client = TestClient(create_app(settings_for(world.path, docs_enabled=True)))
    served = client.get("/openapi.json").json()
    assert render_schema(served) == SCHEMA_FILE.read_text(), "run `python -m api.openapi` and commit api/openapi.json"
    assert set(served["paths"]) == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/orders/{order_id}/forecast",
        "/v1/at-risk",
        "/v1/score",
    }


# ---------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [("get", "/v1/orders/X/forecast", "reader"), ("get", "/v1/at-risk", "reader"), ("post", "/v1/score", "scorer")],
)
def test_every_auth_case(client, tokens, method, path, needed):
    call = getattr(client, method)
    kwargs = {"json": {}} if method == "post" else {}
    no_token = call(path, **kwargs)
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert "no bearer token" in no_token.json()["detail"]
    assert call(path, headers={"Authorization": "Basic dXNlcjpwdw=="}, **kwargs).status_code == 401
    unknown = call(path, headers=bearer("jo_not-a-token"), **kwargs)
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.json()["detail"]
    assert call(path, headers=bearer(tokens["revoked"]), **kwargs).status_code == 401
    for role in auth.ROLES:
        status = call(path, headers=bearer(tokens[role]), **kwargs).status_code
        if auth.role_allows(role, needed):
            assert status != 403 and status != 401, role
        else:
            assert status == 403, role


def test_wrong_role_says_which_role_is_needed(client, tokens):
    response = client.post("/v1/score", headers=bearer(tokens["reader"]), json={})
    assert response.status_code == 403
    assert response.json() == {"detail": "a reader token may not do this; it needs the scorer role"}


def test_a_revoked_token_is_refused_on_the_next_check(world, tokens):
    record, token = auth.create_token("reader", "short-lived", world.path)
    client = TestClient(create_app(settings_for(world.path)))
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 200
    auth.revoke_token(record.token_id, world.path)
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 401


def test_token_cache_reads_a_change_before_answering_and_only_a_change(world, monkeypatch):
    cache = deps.TokenCache(str(world.path))
    reads = []
    original = auth.active_tokens
    monkeypatch.setattr(auth, "active_tokens", lambda path: reads.append(path) or original(path))
    before = {t.token_id for t in cache.get()}
    assert {t.token_id for t in cache.get()} == before
    assert len(reads) == 1  # unchanged: two stats, no read
    record, _ = auth.create_token("reader", "seen at once", world.path)
    assert {t.token_id for t in cache.get()} == before | {record.token_id}
    assert len(reads) == 2


def test_rate_limit_per_token_is_429_with_retry_after(world, tokens):
    client = TestClient(create_app(settings_for(world.path, rate_per_s=0.5, rate_burst=2)))
    statuses = [client.get("/v1/orders/X/forecast", headers=bearer(tokens["reader"])).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    limited = client.get("/v1/orders/X/forecast", headers=bearer(tokens["reader"]))
    assert limited.headers["retry-after"] == "2"
    # Another token has its own bucket.
    assert client.get("/v1/orders/X/forecast", headers=bearer(tokens["admin"])).status_code == 404


def test_tokens_can_be_overridden_as_a_dependency(world):
    fake = auth.TokenRecord("tok_fake", None, "reader", auth.hash_token("let-me-in"), store.utcnow(), None)
    app = create_app(settings_for(world.path))
    app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
    assert TestClient(app).get("/v1/at-risk", headers=bearer("let-me-in")).status_code == 200


# ---------------------------------------------------------------- forecast and at-risk


def test_forecast_of_an_order(client, tokens, world):
    with threadpool_limits(1):
        batch = batch_scores(world.path, world.as_of_at)
    with store.connect(world.path, read_only=True) as con:
        order_id = con.execute("select order_id from triage_list where rank = 1").fetchone()[0]
    response = client.get(f"/v1/orders/{order_id}/forecast", headers=bearer(tokens["reader"]))
    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == order_id
    assert body["as_of_at"] == world.as_of_at.isoformat()
    assert body["as_of_date"] == world.as_of_date.isoformat()
    assert body["p50_h"] == pytest.approx(batch.loc[order_id, "p50_h"])
    assert body["stuck_prob"] == pytest.approx(batch.loc[order_id, "stuck_prob"])
    assert body["forecaster_version"] == "forecaster-v1"
    assert body["classifier_version"] == "stuck_classifier-v1"
    eta = pd.Timestamp(body["eta_p50_at"]) - pd.Timestamp(body["as_of_at"])
    assert eta / pd.Timedelta(hours=1) == pytest.approx(body["p50_h"])
    assert body["reasons"] == [{"feature": "stall_ratio", "effect": 1.5, "text": f"reason of {order_id}"}]


def test_forecast_of_an_unknown_order_is_404(client, tokens):
    response = client.get("/v1/orders/NOPE-1/forecast", headers=bearer(tokens["reader"]))
    assert response.status_code == 404
    assert response.json() == {"detail": "no forecast for order NOPE-1: it is unknown, ended, or not scored yet"}


def test_at_risk_list_excludes_held_out_orders(client, tokens, world):
    response = client.get("/v1/at-risk", params={"limit": 5}, headers=bearer(tokens["reader"]))
    assert response.status_code == 200
    body = response.json()
    assert body["as_of_date"] == world.as_of_date.isoformat()
    assert [o["rank"] for o in body["orders"]] == [1, 2, 3, 5, 6]
    assert body["count"] == 5
    everything = client.get("/v1/at-risk", params={"limit": 500}, headers=bearer(tokens["reader"])).json()
    assert everything["count"] == 23  # 30 listed, ranks 4, 8, ..., 28 held out
    day = (world.as_of_date - timedelta(days=3)).isoformat()
    empty = client.get("/v1/at-risk", params={"as_of": day}, headers=bearer(tokens["reader"])).json()
    assert empty == {"as_of_date": day, "count": 0, "orders": []}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "query.limit", "greater than or equal to 1"),
        ({"limit": 501}, "query.limit", "less than or equal to 500"),
        ({"as_of": "yesterday"}, "query.as_of", "valid date"),
        ({"min_stuck_prob": 2}, "query.min_stuck_prob", "less than or equal to 1"),
    ],
)
def test_at_risk_validation_says_which_field_and_why(client, tokens, params, field, message):
    response = client.get("/v1/at-risk", params=params, headers=bearer(tokens["reader"]))
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "the request is invalid; see errors"
    assert [e["field"] for e in body["errors"]] == [field]
    assert message in body["errors"][0]["message"]
    assert "Traceback" not in response.text


# ---------------------------------------------------------------- online scoring


def test_score_equals_batch_on_simulated_orders(client, tokens, world):
    with threadpool_limits(1):
        batch = batch_scores(world.path, world.as_of_at)
        for order_id in batch.index.to_series().sample(8, random_state=11):
            body = journey_body(stored_journey(world.path, order_id, world.as_of_at), world.as_of_at)
            response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
            assert response.status_code == 200, response.text
            scored = response.json()
            for column in ("p10_h", "p50_h", "p90_h", "stuck_prob"):
                assert scored[column] == pytest.approx(batch.loc[order_id, column], rel=1e-9, abs=1e-9)
            assert scored["as_of_at"] == world.as_of_at.isoformat()
            assert scored["forecaster_version"] == "forecaster-v1"


def test_score_takes_zoned_timestamps_as_utc(client, tokens, world):
    with threadpool_limits(1):
        order_id = batch_scores(world.path, world.as_of_at).index[0]
        journey = stored_journey(world.path, order_id, world.as_of_at)
        plain = client.post("/v1/score", json=journey_body(journey, world.as_of_at), headers=bearer(tokens["scorer"]))
        zoned_body = journey_body(journey, world.as_of_at)
        for event in zoned_body["events"]:
            event["event_ts"] = (
                pd.Timestamp(event["event_ts"]).tz_localize("UTC").tz_convert("Europe/Berlin")
            ).isoformat()
        zoned = client.post("/v1/score", json=zoned_body, headers=bearer(tokens["scorer"]))
    assert zoned.status_code == 200
    assert zoned.json()["p50_h"] == plain.json()["p50_h"]


def test_score_reloads_the_champion_after_promotion(world, tokens, tmp_path):
    path = copy_store(world.path, tmp_path)
    client = TestClient(create_app(settings_for(path)))
    with threadpool_limits(1):
        order_id = batch_scores(path, world.as_of_at).index[0]
        body = journey_body(stored_journey(path, order_id, world.as_of_at), world.as_of_at)
        before = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"])).json()
        promotion.promote(
            world.candidate_forecaster,
            actor="test",
            reason="api reload",
            expected_champion="forecaster-v1",
            store_path=path,
        )
        after = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"])).json()
        assert 'version="forecaster-v2"' in client.get("/metrics", headers=bearer(tokens["reader"])).text
        promotion.rollback("forecaster", actor="test", reason="api reload", store_path=path)
        back = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"])).json()
    assert (before["forecaster_version"], after["forecaster_version"], back["forecaster_version"]) == (
        "forecaster-v1",
        world.candidate_forecaster,
        "forecaster-v1",
    )
    assert after["p50_h"] != before["p50_h"]
    assert back["p50_h"] == before["p50_h"]


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda b: b["order"].pop("order_id"), "body.order.order_id", "Field required"),
        (lambda b: b.update(events=[]), "body.events", "at least 1 item"),
        (lambda b: b["events"][0].update(event_ts="not a time"), "body.events.0.event_ts", "valid datetime"),
        (lambda b: b["events"][0].update(event_ts="1900-01-01T00:00:00"), "body.events.0.event_ts", "between 1970"),
        (lambda b: b["order"].update(order_value=-1), "body.order.order_value", "greater than or equal to 0"),
        (lambda b: b["order"].update(surprise=1), "body.order.surprise", "Extra inputs"),
        (lambda b: b["events"][0].update(stage=""), "body.events.0.stage", "at least 1 character"),
    ],
)
def test_score_validation_says_which_field_and_why(client, tokens, mutate, field, message):
    body = {"order": {"order_id": "V-1"}, "events": [{"stage": "placed", "event_ts": "2026-03-02T08:00:00"}]}
    mutate(body)
    response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert message in errors[0]["message"]


def test_score_of_an_ended_journey_is_422(client, tokens, world):
    at = world.as_of_at
    body = {
        "order": {"order_id": "ENDED"},
        "events": [
            {"stage": "placed", "event_ts": (at - timedelta(days=2)).isoformat()},
            {"stage": "delivered", "event_ts": (at - timedelta(days=1)).isoformat()},
        ],
        "as_of": at.isoformat(),
    }
    response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 422
    assert "order ENDED has ended" in response.json()["detail"]


def test_request_limits(world, tokens):
    client = TestClient(create_app(settings_for(world.path, max_body_bytes=2_000, max_events=3)))
    events = [{"stage": "placed", "event_ts": "2026-03-02T08:00:00"}] * 4
    too_many = client.post(
        "/v1/score", json={"order": {"order_id": "L"}, "events": events}, headers=bearer(tokens["scorer"])
    )
    assert too_many.status_code == 422
    assert too_many.json()["detail"] == "the journey has 4 events; send at most 3"
    huge = {
        "order": {"order_id": "L", "attrs": {"note": "x" * 900, "more": "y" * 900, "most": "z" * 900}},
        "events": events[:1],
    }
    too_big = client.post("/v1/score", json=huge, headers=bearer(tokens["scorer"]))
    assert too_big.status_code == 413
    assert too_big.json() == {"detail": "the request body is larger than 2000 bytes; send a shorter journey"}
    chunked = client.post(
        "/v1/score",
        content=iter([json.dumps(huge).encode()]),
        headers={**bearer(tokens["scorer"]), "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413


# ---------------------------------------------------------------- failures are calm


def test_a_busy_store_is_503_with_retry_after(world, tokens, tmp_path, monkeypatch):
    path = copy_store(world.path, tmp_path)
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.2")
    app = create_app(settings_for(path))
    fake = auth.TokenRecord("tok_fake", None, "reader", auth.hash_token("t"), store.utcnow(), None)
    app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
    with store_held_by_a_job(path):
        response = TestClient(app).get("/v1/orders/X/forecast", headers=bearer("t"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "locked by another process" in response.json()["detail"]


def test_an_unexpected_error_is_500_without_a_stack_trace(world, tokens):
    app = create_app(settings_for(world.path))

    def broken() -> serving.Champions:
        raise RuntimeError("secret internals")

    app.dependency_overrides[deps.get_champions] = broken
    client = TestClient(app, raise_server_exceptions=False)
    body = {"order": {"order_id": "B"}, "events": [{"stage": "placed", "event_ts": "2026-03-02T08:00:00"}]}
    response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; it has been logged"}
    assert "secret" not in response.text and "Traceback" not in response.text
    metrics = client.get("/metrics", headers=bearer(tokens["reader"])).text
    assert 'route="/v1/score",method="POST",status="500"} 1' in metrics
