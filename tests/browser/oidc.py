"""A real OpenID Connect provider on 127.0.0.1 for the sign-in tests (the PyPI package
`oidc-provider-mock`), the dashboard's sign-in secrets written at test time into a temporary folder,
and the browser steps of signing in through the provider's form."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import werkzeug.serving
from oidc_provider_mock import User, app
from playwright.sync_api import Page

from tests.browser.test_process_insights_page import free_port

WAIT_MS = 30_000
CLIENT_ID = "journeyops-test"
ROLE_MAP = {
    "journeyops-triage": "triage",
    "journeyops-benefits": "benefits",
    "journeyops-analysts": "analyst",
    "journeyops-admins": "admin",
}
# Three people with different group claims: a triage user, an admin (among other groups), and a
# person whose groups map to no role.
PEOPLE: dict[str, dict[str, Any]] = {
    "tina": {"email": "tina@example.com", "groups": ["journeyops-triage"]},
    "ada": {"email": "ada@example.com", "groups": ["staff", "journeyops-admins"]},
    "nobody": {"email": "nobody@example.com", "groups": ["marketing"]},
}


@dataclass(frozen=True)
class Provider:
    """The running provider: its issuer URL (what ID tokens carry as `iss`)."""

    issuer: str

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def actor(self, sub: str) -> str:
        """How audit records name this person (roles.User.actor)."""
        return f"{PEOPLE[sub]['email']} ({self.issuer}|{sub})"


@contextlib.contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1 (the browser must use the host of the redirect URI)."""
    users = [User(sub=sub, claims=claims) for sub, claims in PEOPLE.items()]
    server = werkzeug.serving.make_server("127.0.0.1", free_port(), app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def secrets_toml(provider: Provider, dashboard_url: str, cookie_secret: str, session_hours: float = 8) -> str:
    """A .streamlit/secrets.toml for the dashboard at `dashboard_url` signing in with `provider`."""
    role_map = "\n".join(f'"{group}" = "{role}"' for group, role in ROLE_MAP.items())
    return f"""[auth]
redirect_uri = "{dashboard_url}/oauth2callback"
cookie_secret = "{cookie_secret}"
client_id = "{CLIENT_ID}"
client_secret = "{secrets.token_urlsafe(16)}"
server_metadata_url = "{provider.metadata_url}"
client_kwargs = {{ scope = "openid email profile" }}

[journeyops]
role_claim = "groups"
session_hours = {session_hours}

[journeyops.role_map]
{role_map}
"""


def new_cookie_secret() -> str:
    return secrets.token_urlsafe(32)


def settle(page: Page) -> None:
    """Wait until the script run has finished and nothing raised."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    assert page.get_by_test_id("stException").count() == 0


def sign_in(page: Page, url: str, sub: str) -> None:
    """Open the dashboard, press Sign in, pick the person on the provider's form, come back signed in."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click(timeout=WAIT_MS)
    page.get_by_role("heading", name="Authorize Client").wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=WAIT_MS)
    page.get_by_test_id("stApp").wait_for(timeout=WAIT_MS)


def user_cookie(claims: Mapping[str, Any], origin: str, cookie_secret: str) -> str:
    """The identity cookie Streamlit sets after a sign-in, signed as Streamlit signs it."""
    from streamlit.web.server.server_util import AUTH_COOKIE_NAME
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    value = json.dumps({**claims, "origin": origin, "is_logged_in": True, "provider": "default"})
    return create_signed_value(cookie_secret, AUTH_COOKIE_NAME, value).decode()


def issued_claims(provider: Provider, sub: str, age_s: float) -> dict[str, Any]:
    """ID-token claims as the provider issues them, `age_s` seconds ago."""
    issued = int(time.time() - age_s)
    return {"iss": provider.issuer, "sub": sub, "aud": CLIENT_ID, "iat": issued, "exp": issued + 3600, **PEOPLE[sub]}


def write_secrets(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path
