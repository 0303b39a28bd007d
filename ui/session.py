"""Who is using the dashboard: for now the single user of local mode (roles from configuration,
$JOURNEYOPS_LOCAL_ROLE); the page guard and the local-mode banner."""

from __future__ import annotations

import streamlit as st

from core.access import roles

LOCAL_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})
FORBIDDEN_NOTE = "Your role ({role}) does not open this page; ask an admin for a role that does."
BANNER = "Local single-user mode — role {role}"
EXPOSED_NOTE = (
    "Local single-user mode has no login, so it only serves localhost; this server listens on {address!r}. "
    "Start it with `--server.address 127.0.0.1` (as `make run` does)."
)


def current_user() -> roles.User:
    """The user of this session: the local single user until login exists."""
    return roles.local_user()


def require_page(page_key: str) -> roles.User:
    """The user, after a calm stop when their role may not open this page (even opened directly)."""
    user = current_user()
    if not roles.can_see(user.role, page_key):
        st.warning(FORBIDDEN_NOTE.format(role=user.role), icon=":material/lock:")
        st.stop()
    return user


def show_local_banner(user: roles.User) -> None:
    """A visible banner in local mode; refuse to serve when the server is not bound to localhost."""
    if not user.local_mode:
        return
    address = st.get_option("server.address")
    if address not in LOCAL_HOSTS:
        st.error(EXPOSED_NOTE.format(address=address or "every interface"), icon=":material/public:")
        st.stop()
    st.info(BANNER.format(role=user.role), icon=":material/person:")
