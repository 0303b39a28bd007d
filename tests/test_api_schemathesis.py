"""Schemathesis against the checked-in OpenAPI schema (api/openapi.json, equal to the served one): no 5xx.

Every operation is called in-process with generated valid and invalid inputs, by an admin token, on
the trained test store; any server error fails the test.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api import deps
from api.main import create_app
from api.openapi import SCHEMA_FILE
from api.settings import Settings
from core import store
from core.access import auth
from tests.test_serving import trained_store

TOKEN = "schemathesis-admin-token"

schema = schemathesis.openapi.from_path(SCHEMA_FILE)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    world = trained_store(tmp_path_factory)
    app = create_app(Settings(store_path=str(world.path), rate_per_s=1e6, rate_burst=1_000_000))
    admin = auth.TokenRecord("tok_st", "schemathesis", "admin", auth.hash_token(TOKEN), store.utcnow(), None)
    app.dependency_overrides[deps.get_active_tokens] = lambda: [admin]
    return app


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, app):
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
