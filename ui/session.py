"""Who is using the dashboard: a person signed in with OpenID Connect (Streamlit's `st.login`, set up
in the `[auth]` section of .streamlit/secrets.toml; rules in core.access.signin), or — with no
`[auth]` — the single user of local mode on localhost ($JOURNEYOPS_LOCAL_ROLE). Also the page guard,
the sign-in / expired / no-access screens, and the local-mode banner."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.access import roles, signin
from core.errors import ConfigError, JourneyOpsError
from ui import navigation

LOCAL_HOSTS: frozenset[str] = signin.LOCAL_HOSTS
FORBIDDEN_NOTE = "Your role ({role}) does not open this page; ask an admin for a role that does."
BANNER = "Local single-user mode — role {role}"
EXPOSED_NOTE = (
    "Local single-user mode has no login, so it only serves localhost; this server listens on {address!r}. "
    "Start it with `--server.address 127.0.0.1` (as `make run` does), or set up sign-in (docs/deploy.md)."
)
SIGN_IN_NOTE = "Sign in with your organisation's account to open the dashboard."
SIGNED_IN_AS = "Signed in as {name} — role {role}"


class ServingRefusedError(JourneyOpsError):
    """The dashboard must not serve pages as configured (the script health check fails on it)."""


@dataclass(frozen=True)
class Screen:
    """What a person sees instead of the dashboard: sign in, sign in again, or no access."""

    kind: str  # sign_in | expired | no_access
    title: str
    message: str
    provider: str | None = None


def secrets() -> Mapping[str, Any]:
    """The app's secrets (.streamlit/secrets.toml) as a plain dict; empty when there are none."""
    if not st.secrets.load_if_toml_exists():
        return {}
    return st.secrets.to_dict()


def resolve() -> roles.User | Screen:
    """The user of this session, or the screen to show instead. Raises ServingRefusedError (after
    showing why) when the configuration must not serve pages at all."""
    found = secrets()
    if not signin.auth_configured(found):
        address = st.get_option("server.address")
        if address not in LOCAL_HOSTS:
            note = EXPOSED_NOTE.format(address=address or "every interface")
            st.error(note, icon=":material/public:")
            raise ServingRefusedError(note)
        return roles.local_user()
    try:
        settings = signin.load_settings(found)
    except ConfigError as exc:
        st.error(str(exc), icon=":material/key_off:")
        raise ServingRefusedError(str(exc)) from exc
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return Screen("sign_in", "JourneyOps", SIGN_IN_NOTE, settings.provider)
    try:
        return signin.user_from_claims(claims, settings)
    except signin.SessionExpiredError as exc:
        return Screen("expired", "Session expired", str(exc), settings.provider)
    except signin.NoAccessError as exc:
        return Screen("no_access", "No access", str(exc), settings.provider)


def render_screen(screen: Screen) -> None:
    """Draw a sign-in, expired or no-access screen with its one button."""
    st.title(screen.title)
    if screen.kind == "sign_in":
        st.write(screen.message)
        if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
            st.login(screen.provider)
    elif screen.kind == "expired":
        st.warning(screen.message, icon=":material/schedule:")
        if st.button("Sign in again", type="primary", icon=":material/login:", key="sign_in_again"):
            st.login(screen.provider)
    else:
        st.warning(screen.message, icon=":material/lock:")
        if st.button("Sign out", icon=":material/logout:", key="sign_out_no_access"):
            st.logout()


def gate() -> roles.User:
    """app.py's entry: the user, or a screen served alone (no page of the app is routed) and a stop."""
    found = resolve()
    if isinstance(found, roles.User):
        return found
    # Every page's address shows the screen (no "page not found" over it); nothing of the pages runs.
    draw = functools.partial(render_screen, found)
    screens = [
        st.Page(draw, title=found.title, url_path=spec.url_path, default=spec.default) for spec in navigation.PAGES
    ]
    st.navigation(screens, position="hidden").run()
    st.stop()
    raise AssertionError("unreachable: st.stop ends the run")  # pragma: no cover


def current_user() -> roles.User:
    """The user of this session; a page opened without one shows the screen and stops."""
    found = resolve()
    if isinstance(found, Screen):
        render_screen(found)
        st.stop()
        raise AssertionError("unreachable: st.stop ends the run")  # pragma: no cover
    return found


def require_page(page_key: str) -> roles.User:
    """The user, after a calm stop when their role may not open this page (even opened directly)."""
    user = current_user()
    if not roles.can_see(user.role, page_key):
        st.warning(FORBIDDEN_NOTE.format(role=user.role), icon=":material/lock:")
        st.stop()
    return user


def show_local_banner(user: roles.User) -> None:
    """A visible banner in local mode; for a signed-in person, who they are and a sign-out button."""
    if user.local_mode:
        st.info(BANNER.format(role=user.role), icon=":material/person:")
        return
    st.sidebar.caption(SIGNED_IN_AS.format(name=user.name, role=user.role), help=user.identity)
    if st.sidebar.button("Sign out", icon=":material/logout:", key="sign_out"):
        st.logout()
