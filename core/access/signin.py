"""Sign-in with OpenID Connect: which settings it needs, who a signed-in person is, and their role.

The dashboard signs people in through Streamlit's own `st.login` (the `[auth]` section of
`.streamlit/secrets.toml`); this module holds the rules, free of Streamlit, so the CLI's start-up
check, the pages and the tests share them:

- the settings a working sign-in needs (`missing_settings`) and the rule that a dashboard bound to
  anything but localhost must have them (`serving_refusal`);
- the person's stable identity (issuer + subject) and the role from a configurable claim through a
  group → role map (`user_from_claims`): a person with no mapped group gets no access;
- session expiry: a sign-in is good for `session_hours` after the provider issued it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.access import roles
from core.errors import ConfigError, JourneyOpsError

LOCAL_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})
SECTION = "journeyops"
DEFAULT_ROLE_CLAIM = "groups"
DEFAULT_SESSION_HOURS = 8.0
SHARED_AUTH_KEYS: tuple[str, ...] = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS: tuple[str, ...] = ("client_id", "client_secret", "server_metadata_url")
DOCS = "docs/deploy.md, section Sign-in"


class NoAccessError(JourneyOpsError):
    """A signed-in person whose claims map to no JourneyOps role."""


class SessionExpiredError(JourneyOpsError):
    """A sign-in older than the configured session length (or without an issue time)."""


@dataclass(frozen=True)
class SignInSettings:
    """How sign-in maps a person to a role: the provider section, the claim, the map, the session length."""

    provider: str | None = None
    role_claim: str = DEFAULT_ROLE_CLAIM
    role_map: Mapping[str, str] = field(default_factory=dict)
    session_hours: float = DEFAULT_SESSION_HOURS


def _section(secrets: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = secrets.get(name)
    return value if isinstance(value, Mapping) else {}


def auth_configured(secrets: Mapping[str, Any]) -> bool:
    """Whether the secrets hold an `[auth]` section at all (sign-in is wanted, maybe incomplete)."""
    return bool(_section(secrets, "auth"))


def missing_settings(secrets: Mapping[str, Any]) -> list[str]:
    """The settings sign-in needs that the secrets lack, as dotted names (e.g. `auth.client_id`)."""
    auth = _section(secrets, "auth")
    ours = _section(secrets, SECTION)
    missing = [f"auth.{key}" for key in SHARED_AUTH_KEYS if not auth.get(key)]
    provider = ours.get("provider") or None
    where = f"auth.{provider}" if provider else "auth"
    provider_section = _section(auth, str(provider)) if provider else auth
    missing += [f"{where}.{key}" for key in PROVIDER_KEYS if not provider_section.get(key)]
    if not _section(ours, "role_map"):
        missing.append(f"{SECTION}.role_map")
    return missing


def load_settings(secrets: Mapping[str, Any]) -> SignInSettings:
    """The sign-in settings from the secrets; a ConfigError naming what is missing or wrong."""
    missing = missing_settings(secrets)
    if missing:
        raise ConfigError(
            f"sign-in is not fully configured: .streamlit/secrets.toml lacks {', '.join(missing)} ({DOCS})"
        )
    ours = _section(secrets, SECTION)
    role_map = {str(group): str(role) for group, role in _section(ours, "role_map").items()}
    for group, role in role_map.items():
        if role not in roles.ROLES:
            raise ConfigError(
                f"{SECTION}.role_map maps {group!r} to {role!r}, which is not a role; "
                f"use one of {', '.join(roles.ROLES)}"
            )
    try:
        hours = float(ours.get("session_hours", DEFAULT_SESSION_HOURS))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{SECTION}.session_hours must be a number of hours") from exc
    if hours <= 0:
        raise ConfigError(f"{SECTION}.session_hours must be above 0")
    return SignInSettings(
        provider=str(ours["provider"]) if ours.get("provider") else None,
        role_claim=str(ours.get("role_claim") or DEFAULT_ROLE_CLAIM),
        role_map=role_map,
        session_hours=hours,
    )


def serving_refusal(address: str | None, secrets: Mapping[str, Any]) -> str | None:
    """One line saying why the dashboard must not start on `address`, or None when it may.

    Localhost without sign-in is local single-user mode; any other address needs sign-in configured.
    """
    if address in LOCAL_HOSTS:
        return None
    missing = missing_settings(secrets)
    if not missing:
        return None
    shown = repr(address) if address else "every interface"
    return (
        f"journeyops: the dashboard listens on {shown}, which needs sign-in, but .streamlit/secrets.toml "
        f"lacks {', '.join(missing)} ({DOCS}; or serve local mode on --server.address 127.0.0.1)"
    )


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """A claim's values as a list of text: a list claim as is, a text claim split on spaces and commas."""
    value = claims.get(claim)
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return [str(value)]


def role_for_claims(claims: Mapping[str, Any], settings: SignInSettings) -> str | None:
    """The person's role: of the roles their claim values map to, the one that may do most; else None."""
    mapped = {settings.role_map[v] for v in claim_values(claims, settings.role_claim) if v in settings.role_map}
    if not mapped:
        return None
    return max(mapped, key=roles.ROLES.index)


def identity(claims: Mapping[str, Any]) -> str:
    """The stable identity of a signed-in person: `issuer|subject` (an e-mail can change, these do not)."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not issuer or not subject:
        raise NoAccessError("the provider's answer names no issuer and subject; sign in again")
    return f"{issuer}|{subject}"


def signed_in_at(claims: Mapping[str, Any]) -> datetime | None:
    """When the provider issued the sign-in (the ID token's `iat`), in UTC."""
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return None
    return datetime.fromtimestamp(issued, UTC)


def check_fresh(claims: Mapping[str, Any], settings: SignInSettings, now: datetime) -> None:
    """Raise SessionExpiredError unless the sign-in was issued within the last `session_hours`."""
    issued = signed_in_at(claims)
    if issued is None:
        raise SessionExpiredError("this session carries no sign-in time; sign in again")
    age_h = (now - issued).total_seconds() / 3600
    if age_h > settings.session_hours or age_h < -0.1:
        raise SessionExpiredError(
            f"your sign-in of {issued:%d %b %H:%M} UTC has expired (sessions last {settings.session_hours:g} h); "
            "sign in again"
        )


def user_from_claims(claims: Mapping[str, Any], settings: SignInSettings, now: datetime | None = None) -> roles.User:
    """The signed-in person as a User (role from the mapped claim); refuses an expired or unmapped sign-in."""
    check_fresh(claims, settings, now or datetime.now(UTC))
    person = identity(claims)
    email = str(claims.get("email") or "") or None
    name = email or str(claims.get("preferred_username") or claims.get("name") or claims["sub"])
    role = role_for_claims(claims, settings)
    if role is None:
        values = claim_values(claims, settings.role_claim)
        raise NoAccessError(
            f"{name} is signed in, but no value of the claim {settings.role_claim!r} "
            f"({', '.join(values) if values else 'none'}) maps to a JourneyOps role; "
            f"ask an admin to add you to one of: {', '.join(sorted(settings.role_map))}"
        )
    return roles.User(name=name, role=role, identity=person, email=email)
