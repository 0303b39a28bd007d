"""The API probed from outside (issue 13): tokens that count from the next request, scoring that
cannot starve the reads, calm 503s naming no server path, the data contract on /v1/score, nothing
but "ready" for anonymous callers, security headers, and a limit on failed token attempts.

Real HTTP: TestClient, and a real uvicorn server in a thread where requests must run concurrently.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from core import config, store
from core.access import auth
from core.scoring import serving
from tests.fixtures import store_held_by_a_job
from tests.test_api import bearer, journey_body
from tests.test_serving import TrainedStore, copy_store, stored_journey, trained_store


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    """A private copy of the session's trained store."""
    shared = trained_store(tmp_path_factory)
    path = copy_store(shared.path, tmp_path_factory.mktemp("api_security"))
    return TrainedStore(path, shared.as_of_at, shared.as_of_date, shared.candidate_forecaster)


@pytest.fixture(scope="module")
def tokens(world: TrainedStore) -> dict[str, str]:
    return {role: auth.create_token(role, f"security {role}", world.path)[1] for role in auth.ROLES}


def app_for(path: Path, **overrides: object):
    # Default settings apart from the store: the token cache is exercised as it runs in production.
    return create_app(Settings(store_path=str(path), **overrides))


def listed_order(path: Path) -> str:
    """An order on the latest at-risk list (its forecast is in the forecast cache)."""
    with store.connect(path, read_only=True) as con:
        return con.execute("select order_id from triage_list where rank = 1").fetchone()[0]


# ---------------------------------------------------------------- 1. tokens count from the next request


def test_a_revoke_and_a_new_token_count_from_the_next_request(world):
    record, token = auth.create_token("reader", "next request", world.path)
    client = TestClient(app_for(world.path))
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 200
    auth.revoke_token(record.token_id, world.path)
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 401
    _, fresh = auth.create_token("reader", "brand new", world.path)
    assert client.get("/v1/at-risk", headers=bearer(fresh)).status_code == 200


def test_a_revoke_counts_while_a_job_holds_the_store(world, tmp_path, monkeypatch):
    path = copy_store(world.path, tmp_path)
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.2")
    record, revoked = auth.create_token("reader", "to be revoked", path)
    _, kept = auth.create_token("reader", "kept", path)
    client = TestClient(app_for(path))
    order_id = listed_order(path)
    forecast = f"/v1/orders/{order_id}/forecast"
    assert client.get(forecast, headers=bearer(revoked)).status_code == 200
    auth.revoke_token(record.token_id, path)
    _, created = auth.create_token("reader", "created before the job", path)
    with store_held_by_a_job(path):
        # The forecast comes from memory; the tokens from the snapshot beside the store: no lock needed.
        assert client.get(forecast, headers=bearer(revoked)).status_code == 401
        assert client.get(forecast, headers=bearer(created)).status_code == 200
        assert client.get(forecast, headers=bearer(kept)).status_code == 200
        time.sleep(1.1)  # an idle spell longer than the old re-read period changes nothing
        assert client.get(forecast, headers=bearer(revoked)).status_code == 401


def test_tokens_that_cannot_be_read_are_refused_not_guessed(world, tmp_path, monkeypatch):
    path = copy_store(world.path, tmp_path)
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.2")
    _, token = auth.create_token("reader", "no snapshot", path)
    auth.snapshot_file(path).unlink()  # as a store written before snapshots existed
    client = TestClient(app_for(path))
    with store_held_by_a_job(path):
        response = client.get("/v1/at-risk", headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "detail": "the API tokens cannot be read right now (the store is busy or missing); try again shortly"
    }
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 200  # read from the store


def test_a_restored_store_brings_its_own_tokens(world, tmp_path):
    path = copy_store(world.path, tmp_path)
    backup = tmp_path / "backup.duckdb"
    shutil.copy(path, backup)
    _, token = auth.create_token("reader", "made after the backup", path)
    client = TestClient(app_for(path))
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 200
    os.replace(backup, path)  # what a restore does: the snapshot beside it is of the replaced store
    assert client.get("/v1/at-risk", headers=bearer(token)).status_code == 401


def test_the_snapshot_holds_only_active_hashes(world, tmp_path):
    path = copy_store(world.path, tmp_path)
    record, token = auth.create_token("scorer", "snap", path)
    gone, _ = auth.create_token("reader", "gone", path)
    auth.revoke_token(gone.token_id, path)
    text = auth.snapshot_file(path).read_text()
    assert token not in text and gone.token_id not in text
    assert {t.token_id for t in auth.read_snapshot(path)} == {
        t.token_id for t in auth.list_tokens(path, only_active=True)
    }
    assert record.token_id in {t.token_id for t in auth.read_snapshot(path)}
    assert oct(auth.snapshot_file(path).stat().st_mode & 0o777) == "0o600"


# ---------------------------------------------------------------- 2. one scorer cannot starve the API


@contextlib.contextmanager
def served(app) -> Iterator[int]:
    """The app behind a real uvicorn server on a free local port, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def call(port: int, method: str, path: str, token: str | None = None, body: dict | None = None, timeout: float = 20):
    """(status, headers, seconds) of one HTTP request on its own connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
    started = time.perf_counter()
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.perf_counter() - started
    finally:
        connection.close()


def test_one_scorer_token_cannot_starve_the_api(world, tokens, monkeypatch):
    order_id = listed_order(world.path)
    body = journey_body(stored_journey(world.path, order_id, world.as_of_at), world.as_of_at)
    app = app_for(world.path, score_concurrency=3, score_concurrency_per_token=2)
    answer = TestClient(app).post("/v1/score", json=body, headers=bearer(tokens["scorer"])).json()
    release = threading.Event()
    lock = threading.Lock()
    running = peak = 0

    def slow_score(*args, **kwargs):
        # Scoring that holds its thread until released (it would be CPU; here it only waits).
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            release.wait(timeout=15)
            return {
                **answer,
                "as_of_at": world.as_of_at,
                "eta_p10_at": world.as_of_at,
                "eta_p50_at": world.as_of_at,
                "eta_p90_at": world.as_of_at,
            }
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(serving, "score_journey", slow_score)
    results: list[tuple[int, dict, float]] = []

    def post(token: str) -> None:
        outcome = call(port, "POST", "/v1/score", token, body)
        with lock:
            results.append(outcome)

    with served(app) as port:
        call(port, "GET", f"/v1/orders/{order_id}/forecast", tokens["reader"])  # the forecast cache is warm
        flood = [threading.Thread(target=post, args=(tokens["scorer"],)) for _ in range(45)]
        for thread in flood:
            thread.start()
        deadline = time.monotonic() + 5
        while len(results) < 43 and time.monotonic() < deadline:
            time.sleep(0.02)
        other = threading.Thread(target=post, args=(tokens["admin"],))  # a third slot, of another token
        try:
            healthz = call(port, "GET", "/healthz", timeout=2)
            forecast = call(port, "GET", f"/v1/orders/{order_id}/forecast", tokens["reader"], timeout=2)
            other.start()
            while peak < 3 and time.monotonic() < deadline + 5:
                time.sleep(0.02)
            full = call(port, "POST", "/v1/score", tokens["admin"], body, timeout=5)
        finally:
            release.set()
            for thread in [*flood, other]:
                if thread.is_alive():
                    thread.join(timeout=20)
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: 3, 429: 43}
    assert peak == 3
    assert all(headers.get("retry-after") == "1" for status, headers, _ in results if status == 429)
    assert healthz[0] == 200 and healthz[2] < 0.5
    assert forecast[0] == 200 and forecast[2] < 0.5
    assert full[0] == 429 and full[1]["retry-after"] == "1"


def test_scoring_slots_are_freed_after_errors(world, tokens):
    client = TestClient(app_for(world.path, score_concurrency=1, score_concurrency_per_token=1))
    ended = {
        "order": {"order_id": "ENDED"},
        "events": [
            {"stage": "placed", "event_ts": (world.as_of_at - timedelta(days=2)).isoformat()},
            {"stage": "delivered", "event_ts": (world.as_of_at - timedelta(days=1)).isoformat()},
        ],
        "as_of": world.as_of_at.isoformat(),
    }
    statuses = [client.post("/v1/score", json=ended, headers=bearer(tokens["scorer"])).status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    assert client.app.state.scoring_slots.running == 0


# ---------------------------------------------------------------- 3. an unloadable champion


def test_an_unloadable_champion_is_503_naming_no_path_and_counted(world, tokens, tmp_path):
    path = copy_store(world.path, tmp_path)
    for artifact in config.models_dir(path).rglob("*.skops"):
        with artifact.open("ab") as damaged:
            damaged.write(b"tampered")
    client = TestClient(app_for(path))
    body = {"order": {"order_id": "B"}, "events": [{"stage": "placed", "event_ts": "2026-03-02T08:00:00"}]}
    response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "detail": "the champion model cannot be loaded; the server log says why (an operator restores its file "
        "or rolls back to another version)"
    }
    metrics = client.get("/metrics", headers=bearer(tokens["reader"])).text
    assert 'journeyops_api_errors_total{route="/v1/score",method="POST"} 1' in metrics
    ready = client.get("/readyz", headers=bearer(tokens["reader"]))
    assert ready.status_code == 503
    assert str(tmp_path) not in ready.text and "<path>" in ready.json()["checks"]["error"]


# ---------------------------------------------------------------- 4. the data contract on /v1/score


def test_a_year_one_timestamp_is_422_not_500(world, tokens):
    client = TestClient(app_for(world.path), raise_server_exceptions=False)
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        body = {"order": {"order_id": "Y"}, "events": [{"stage": "placed", "event_ts": value}]}
        response = client.post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
        assert response.status_code == 422, value
        assert response.json()["errors"] == [
            {"field": "body.events.0.event_ts", "message": "Value error, must be between 1970-01-01 and 2200-01-01"}
        ]


def _journey(world, *stages: str, **order: object) -> dict:
    start = world.as_of_at - timedelta(hours=len(stages) + 1)
    events = [{"stage": s, "event_ts": (start + timedelta(hours=i)).isoformat()} for i, s in enumerate(stages)]
    return {"order": {"order_id": "CONTRACT-1", **order}, "events": events, "as_of": world.as_of_at.isoformat()}


@pytest.mark.parametrize(
    ("make", "errors"),
    [
        (
            lambda w: _journey(w, "placed", "teleported"),
            [("body.events.1.stage", "unknown stage 'teleported'")],
        ),
        (
            lambda w: {
                **_journey(w, "placed"),
                "events": [
                    {"stage": "placed", "event_ts": (w.as_of_at - timedelta(hours=2)).isoformat()},
                    {"stage": "payment_confirmed", "event_ts": "2199-01-01T00:00:00"},
                ],
            },
            [("body.events.1.event_ts", "event_ts in the future")],
        ),
        (
            lambda w: _journey(w, "placed", "picked", "allocated"),
            [("body.events.2.stage", "stage 'allocated' out of order: a later stage came earlier")],
        ),
        (
            lambda w: _journey(w, "placed", "delivered", "picked"),
            [("body.events.2.stage", "stage 'picked' after the order was delivered or cancelled")],
        ),
        (
            lambda w: _journey(w, "placed", "allocated", carrier="DHL"),
            [("body.order.placed_at", "missing placed_at")],
        ),
        (
            lambda w: _journey(w, "placed", placed_at="2199-01-01T00:00:00"),
            [("body.order.placed_at", "placed_at in the future")],
        ),
    ],
)
def test_score_applies_the_ingestion_contract(world, tokens, make, errors):
    client = TestClient(app_for(world.path))
    response = client.post("/v1/score", json=make(world), headers=bearer(tokens["scorer"]))
    assert response.status_code == 422, response.text
    body = response.json()
    assert [(e["field"], e["message"]) for e in body["errors"]] == errors
    assert body["detail"].startswith("the journey breaks the data contract (ingestion would quarantine it): ")


def test_score_refuses_an_event_id_stored_with_other_content(world, tokens):
    with store.connect(world.path, read_only=True) as con:
        event_id, stage = con.execute("select event_id, stage from events order by event_ts limit 1").fetchone()
    body = _journey(world, "placed")
    body["events"][0].update(event_id=event_id, stage="placed" if stage != "placed" else "allocated")
    response = TestClient(app_for(world.path)).post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("body.events.0.event_id", "event_id already stored with different content")
    ]


def test_a_posted_journey_replaces_its_stored_order_in_the_checks(world, tokens):
    # Without the stored ids and with another carrier: as new rows they would clash with the stored
    # ones (stages out of order, the order row changed), but the journey stands in for them.
    order_id = listed_order(world.path)
    body = journey_body(stored_journey(world.path, order_id, world.as_of_at), world.as_of_at)
    for event in body["events"]:
        event.pop("event_id")
    body["order"]["carrier"] = "a carrier the store never saw"
    response = TestClient(app_for(world.path)).post("/v1/score", json=body, headers=bearer(tokens["scorer"]))
    assert response.status_code == 200, response.text
    assert response.json()["order_id"] == order_id


# ---------------------------------------------------------------- 5. anonymous callers learn nothing


def test_readyz_says_only_ready_without_a_token(world, tokens, tmp_path):
    client = TestClient(app_for(world.path))
    assert client.get("/readyz").json() == {"status": "ready", "checks": {}}
    detailed = client.get("/readyz", headers=bearer(tokens["reader"])).json()
    assert detailed["checks"]["champions"] == {"forecaster": "forecaster-v1", "stuck_classifier": "stuck_classifier-v1"}
    missing = TestClient(app_for(tmp_path / "nowhere.duckdb"))
    anonymous = missing.get("/readyz")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not ready", "checks": {}}


def test_metrics_need_a_token_unless_made_public(world, tokens):
    client = TestClient(app_for(world.path))
    refused = client.get("/metrics")
    assert refused.status_code == 401 and "journeyops" not in refused.text
    assert client.get("/metrics", headers=bearer(tokens["reader"])).status_code == 200
    public = TestClient(app_for(world.path, metrics_public=True))
    assert public.get("/metrics").status_code == 200


def test_docs_are_off_unless_enabled(world):
    client = TestClient(app_for(world.path))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path
    enabled = TestClient(app_for(world.path, docs_enabled=True))
    assert enabled.get("/openapi.json").status_code == 200
    assert enabled.get("/docs").status_code == 200


def test_errors_name_no_server_path(world, tokens, tmp_path, monkeypatch):
    missing = TestClient(app_for(tmp_path / "nowhere.duckdb"))
    fake = auth.TokenRecord("tok_fake", None, "reader", auth.hash_token("t"), store.utcnow(), None)
    from api import deps

    missing.app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
    gone = missing.get("/v1/at-risk", headers=bearer("t"))
    assert gone.status_code == 503
    assert gone.json() == {"detail": "the store is not there yet; build it with the daily job, then try again"}
    ready = missing.get("/readyz", headers=bearer("t")).json()
    assert ready["checks"]["error"].startswith("no store at <path>;")
    path = copy_store(world.path, tmp_path)
    monkeypatch.setenv("JOURNEYOPS_LOCK_WAIT_S", "0.2")
    busy = TestClient(app_for(path))
    busy.app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
    with store_held_by_a_job(path):
        response = busy.get("/v1/orders/NOT-CACHED/forecast", headers=bearer("t"))
    assert response.status_code == 503
    assert str(tmp_path) not in response.text
    assert response.json() == {
        "detail": "the store is locked by another process (a job writing to it); try again when it has finished"
    }


@pytest.mark.parametrize(
    ("method", "path", "authorized", "status"),
    [
        ("get", "/healthz", False, 200),
        ("get", "/v1/at-risk", True, 200),
        ("get", "/v1/at-risk", False, 401),
        ("get", "/nowhere", False, 404),
        ("post", "/v1/score", True, 413),
    ],
)
def test_security_headers_on_every_answer(world, tokens, method, path, authorized, status):
    client = TestClient(app_for(world.path, max_body_bytes=10))
    headers = bearer(tokens["scorer"]) if authorized else {}
    kwargs = {"json": {"order": {"order_id": "x" * 20}}} if method == "post" else {}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- 6. failed token attempts


def test_failed_token_attempts_are_limited_per_address(world, tokens):
    app = app_for(world.path, auth_fail_burst=3, auth_fail_rate_per_s=0.01)
    guesser = TestClient(app, client=("10.0.0.1", 40000))
    guesses = [guesser.get("/v1/at-risk", headers=bearer(f"jo_guess{i}")).status_code for i in range(4)]
    assert guesses == [401, 401, 401, 429]
    limited = guesser.get("/v1/at-risk", headers=bearer(tokens["reader"]))
    assert limited.status_code == 429  # even a right guess: the address waits first
    assert limited.headers["retry-after"] == "100"
    assert limited.json() == {"detail": "too many failed token attempts from this address; wait before trying again"}
    neighbour = TestClient(app, client=("10.0.0.2", 40000))
    assert neighbour.get("/v1/at-risk", headers=bearer(tokens["reader"])).status_code == 200


def test_requests_without_a_token_do_not_count_as_failures(world, tokens):
    client = TestClient(app_for(world.path, auth_fail_burst=2, auth_fail_rate_per_s=0.01))
    assert [client.get("/v1/at-risk").status_code for _ in range(5)] == [401] * 5
    assert client.get("/v1/at-risk", headers=bearer(tokens["reader"])).status_code == 200


@pytest.mark.parametrize("error", ["damaged", "full"])
def test_a_damaged_or_full_store_is_503_naming_no_path(world, tmp_path, monkeypatch, error):
    # The store layer turns a corrupted write-ahead log or a full disk into one error with the path
    # and the operator's advice; the API answers that the service cannot, and keeps the path to its log.
    from api import deps
    from core.errors import StoreDamagedError, StoreWriteError

    path = copy_store(world.path, tmp_path)
    client = TestClient(app_for(path))
    fake = auth.TokenRecord("tok_fake", None, "reader", auth.hash_token("t"), store.utcnow(), None)
    client.app.dependency_overrides[deps.get_active_tokens] = lambda: [fake]
    cls = StoreDamagedError if error == "damaged" else StoreWriteError

    def broken(*_args, **_kwargs):
        raise cls(f"{path}.wal is damaged; move it aside to open the committed store")

    monkeypatch.setattr(store, "connect", broken)
    response = client.get("/v1/orders/NOT-CACHED/forecast", headers=bearer("t"))
    assert response.status_code == 503
    assert response.json() == {"detail": "the store cannot be read or written right now; the operator has been told"}
    assert str(tmp_path) not in response.text
