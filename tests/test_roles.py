from __future__ import annotations

import pytest

from core.access import roles
from core.errors import ConfigError


def test_each_role_sees_its_own_pages_and_admin_sees_all():
    assert roles.can_see("triage", "at_risk")
    assert not roles.can_see("triage", "models")
    assert roles.can_see("benefits", "benefits")
    assert not roles.can_see("benefits", "drift")
    assert roles.can_see("analyst", "models")
    assert not roles.can_see("analyst", "at_risk")
    assert roles.can_see("admin", "at_risk") and roles.can_see("admin", "models")


def test_actions_are_checked_per_role():
    assert roles.can("analyst", "retrain") and roles.can("admin", "promote")
    assert not roles.can("triage", "retrain")
    assert roles.can("benefits", "edit_assumptions") and not roles.can("analyst", "edit_assumptions")
    roles.require(roles.User("ann", "triage"), "record_triage_action")
    with pytest.raises(roles.PermissionDeniedError, match=r"ann \(triage\) may not retrain"):
        roles.require(roles.User("ann", "triage"), "retrain")


def test_unknown_roles_and_actions_are_refused(monkeypatch):
    with pytest.raises(ConfigError, match="unknown role 'boss'"):
        roles.can("boss", "retrain")
    with pytest.raises(ConfigError, match="unknown action 'delete_store'"):
        roles.can("admin", "delete_store")
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "triage")
    assert roles.local_user() == roles.User("local", "triage", local_mode=True)
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "nobody")
    with pytest.raises(ConfigError, match="unknown role 'nobody'"):
        roles.local_user()
