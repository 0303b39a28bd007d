"""Roles: who may see which page and take which action. Checked on the server, not by hiding buttons.

A signed-in person's role comes from their provider's claims (core.access.signin). Without sign-in
the dashboard runs in local single-user mode: one user, `local`, whose role is $JOURNEYOPS_LOCAL_ROLE
(default `admin`), bound to localhost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.errors import ConfigError, JourneyOpsError

ROLES: tuple[str, ...] = ("triage", "benefits", "analyst", "admin")

# Page keys (the file stem under pages/) each role sees; admin sees everything.
ROLE_PAGES: dict[str, frozenset[str]] = {
    "triage": frozenset({"today", "at_risk", "order_lookup", "process_insights"}),
    "benefits": frozenset({"today", "benefits", "forecast_accuracy", "segments", "process_insights"}),
    "analyst": frozenset(
        {
            "today",
            "order_lookup",
            "forecast_accuracy",
            "drift",
            "data_quality",
            "segments",
            "benefits",
            "models",
            "process_insights",
            "operations",
        }
    ),
}

# Actions each role may take; admin may take every action.
ACTIONS: tuple[str, ...] = (
    "record_triage_action",
    "export_list",
    "edit_assumptions",
    "retrain",
    "promote",
    "rollback",
    "acknowledge_alert",
    "manage_tokens",
)
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "triage": frozenset({"record_triage_action", "export_list"}),
    "benefits": frozenset({"edit_assumptions", "export_list"}),
    "analyst": frozenset({"retrain", "promote", "rollback", "acknowledge_alert", "export_list"}),
}


class PermissionDeniedError(JourneyOpsError):
    """A user tried an action (or page) their role does not allow."""

    exit_code = 13


@dataclass(frozen=True)
class User:
    """Who is using the dashboard, and in which role: `name` is shown, `identity` (a signed-in
    person's issuer|subject) is stable across e-mail changes."""

    name: str
    role: str
    local_mode: bool = False
    identity: str | None = None
    email: str | None = None

    @property
    def actor(self) -> str:
        """How audit records name this user: `e-mail (issuer|subject)` when signed in, else the name."""
        if self.identity is None:
            return self.name
        return f"{self.email or self.name} ({self.identity})"


def check_role(role: str) -> str:
    """The role itself if it is known; otherwise a ConfigError naming the known roles."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def local_user() -> User:
    """The single user of local mode, with the role from $JOURNEYOPS_LOCAL_ROLE (default admin)."""
    return User(name="local", role=check_role(os.environ.get("JOURNEYOPS_LOCAL_ROLE", "admin")), local_mode=True)


def can_see(role: str, page: str) -> bool:
    """Whether a role may open a page (by its key)."""
    return check_role(role) == "admin" or page in ROLE_PAGES[role]


def can(role: str, action: str) -> bool:
    """Whether a role may take an action."""
    if action not in ACTIONS:
        raise ConfigError(f"unknown action {action!r}")
    return check_role(role) == "admin" or action in ROLE_ACTIONS[role]


def require(user: User, action: str) -> None:
    """Raise PermissionDeniedError unless the user's role allows the action."""
    if not can(user.role, action):
        raise PermissionDeniedError(
            f"{user.name} ({user.role}) may not {action.replace('_', ' ')}; ask an admin for a role that may"
        )
