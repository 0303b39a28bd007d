"""Sign-in rules (core.access.signin), the app in signed-in mode (AppTest with a faked st.user), the
start-up check (ui/preflight.py, in a subprocess as the entrypoint runs it), the activity log, token
revocation from the Operations page, and the deploy files' sign-in wiring."""

from __future__ import annotations

import contextlib
import http.server
import io
import subprocess
import sys
import threading
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from core.access import activity, auth, roles, signin
from core.cli import main, ops
from core.errors import ConfigError
from tests.conftest import REPO_ROOT
from tests.fixtures import ORDER_WORLD_EVENTS, write_events
from ui import monitoring, session, worklist

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ISSUER = "https://idp.example.com/realms/ops"
AUTH = {
    "redirect_uri": "https://journeyops.example.com/oauth2callback",
    "cookie_secret": "s" * 32,
    "client_id": "journeyops",
    "client_secret": "c" * 16,
    "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
}
ROLE_MAP = {"ops-triage": "triage", "ops-analysts": "analyst", "ops-admins": "admin"}
SECRETS: dict[str, Any] = {"auth": AUTH, "journeyops": {"role_claim": "groups", "role_map": ROLE_MAP}}
SETTINGS = signin.load_settings(SECRETS)
TIMEOUT_S = 60


def claims(groups: Any, *, age_h: float = 1.0, sub: str = "u-17", email: str | None = "tina@example.com") -> dict:
    issued = int((NOW - timedelta(hours=age_h)).timestamp())
    found = {"iss": ISSUER, "sub": sub, "iat": issued, "exp": issued + 300, "groups": groups}
    return found | ({"email": email} if email else {})


# ---------------------------------------------------------------- settings


def test_a_complete_configuration_loads_with_its_defaults():
    assert signin.missing_settings(SECRETS) == []
    assert SETTINGS == signin.SignInSettings(provider=None, role_claim="groups", role_map=ROLE_MAP, session_hours=8.0)


def test_missing_settings_are_named_one_by_one():
    assert signin.missing_settings({}) == [
        "auth.redirect_uri",
        "auth.cookie_secret",
        "auth.client_id",
        "auth.client_secret",
        "auth.server_metadata_url",
        "journeyops.role_map",
    ]
    partial = {"auth": {k: v for k, v in AUTH.items() if k != "client_secret"}, "journeyops": {"role_map": ROLE_MAP}}
    assert signin.missing_settings(partial) == ["auth.client_secret"]
    with pytest.raises(ConfigError, match=r"lacks auth\.client_secret \(docs/deploy\.md"):
        signin.load_settings(partial)


def test_a_named_provider_section_is_checked_when_chosen():
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    keycloak = {k: AUTH[k] for k in ("client_id", "server_metadata_url")}
    found = {"auth": {**shared, "keycloak": keycloak}, "journeyops": {"provider": "keycloak", "role_map": ROLE_MAP}}
    assert signin.missing_settings(found) == ["auth.keycloak.client_secret"]
    keycloak["client_secret"] = "x"
    assert signin.load_settings(found).provider == "keycloak"


def test_wrong_values_are_refused_with_what_to_use():
    with pytest.raises(ConfigError, match="maps 'ops-boss' to 'boss', which is not a role; use one of triage"):
        signin.load_settings({**SECRETS, "journeyops": {"role_map": {"ops-boss": "boss"}}})
    with pytest.raises(ConfigError, match="session_hours must be above 0"):
        signin.load_settings({**SECRETS, "journeyops": {"role_map": ROLE_MAP, "session_hours": 0}})


def test_only_localhost_serves_without_sign_in():
    for local in ("127.0.0.1", "localhost", "::1"):
        assert signin.serving_refusal(local, {}) is None
    assert signin.serving_refusal("0.0.0.0", SECRETS) is None
    refusal = signin.serving_refusal("0.0.0.0", {"auth": AUTH})
    assert refusal is not None and "\n" not in refusal
    assert "listens on '0.0.0.0', which needs sign-in" in refusal and refusal.count("journeyops.role_map") == 1
    assert "listens on every interface" in (signin.serving_refusal("", {}) or "")


# ---------------------------------------------------------------- people and roles


def test_the_role_comes_from_the_mapped_claim_and_the_most_capable_wins():
    assert signin.role_for_claims({"groups": ["staff", "ops-triage"]}, SETTINGS) == "triage"
    assert signin.role_for_claims({"groups": ["ops-triage", "ops-admins", "ops-analysts"]}, SETTINGS) == "admin"
    assert signin.role_for_claims({"groups": "ops-analysts, staff"}, SETTINGS) == "analyst"  # a text claim
    assert signin.role_for_claims({"groups": ["staff"]}, SETTINGS) is None
    assert signin.role_for_claims({}, SETTINGS) is None
    by_roles = signin.SignInSettings(role_claim="roles", role_map={"JourneyOps.Admin": "admin"})
    assert signin.role_for_claims({"roles": ["JourneyOps.Admin"], "groups": ["ops-triage"]}, by_roles) == "admin"


def test_a_signed_in_person_is_named_by_issuer_and_subject_with_the_email_shown():
    user = signin.user_from_claims(claims(["ops-triage"]), SETTINGS, NOW)
    assert user == roles.User("tina@example.com", "triage", identity=f"{ISSUER}|u-17", email="tina@example.com")
    assert user.actor == f"tina@example.com ({ISSUER}|u-17)"
    assert not user.local_mode
    without_email = signin.user_from_claims(claims(["ops-triage"], email=None), SETTINGS, NOW)
    assert (without_email.name, without_email.actor) == ("u-17", f"u-17 ({ISSUER}|u-17)")
    assert roles.local_user().actor == "local"


def test_no_mapped_group_means_no_access():
    with pytest.raises(signin.NoAccessError, match=r"no value of the claim 'groups' \(staff, sales\) maps"):
        signin.user_from_claims(claims(["staff", "sales"]), SETTINGS, NOW)
    with pytest.raises(signin.NoAccessError, match=r"\(none\) maps to a JourneyOps role; ask an admin"):
        signin.user_from_claims(claims(None), SETTINGS, NOW)


def test_a_sign_in_older_than_the_session_length_has_expired():
    signin.user_from_claims(claims(["ops-triage"], age_h=7.9), SETTINGS, NOW)
    with pytest.raises(signin.SessionExpiredError, match=r"has expired \(sessions last 8 h\)"):
        signin.user_from_claims(claims(["ops-triage"], age_h=8.1), SETTINGS, NOW)
    undated = {k: v for k, v in claims(["ops-admins"]).items() if k != "iat"}
    with pytest.raises(signin.SessionExpiredError, match="no sign-in time"):
        signin.user_from_claims(undated, SETTINGS, NOW)
    with pytest.raises(signin.SessionExpiredError):  # issued in the future: a forged or skewed time
        signin.user_from_claims(claims(["ops-admins"], age_h=-1), SETTINGS, NOW)


# ---------------------------------------------------------------- the app, signed in (AppTest)


def signed_in_app(store: Path, monkeypatch: pytest.MonkeyPatch, user: dict[str, Any]) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", "admin")  # ignored once sign-in is configured
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.secrets = dict(SECRETS)
    at.user = user
    return at.run()


def live(groups: Any, age_h: float = 1.0) -> dict[str, Any]:
    now = datetime.now(UTC)
    issued = int((now - timedelta(hours=age_h)).timestamp())
    return {**claims(groups), "iat": issued, "exp": issued + 300, "is_logged_in": True}


def test_the_app_asks_a_visitor_to_sign_in(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = signed_in_app(store_file, monkeypatch, {"is_logged_in": False})
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["JourneyOps"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert session.BANNER.split(" —")[0] not in [i.value for i in at.info]


def test_the_app_opens_for_a_signed_in_triage_user_without_the_local_banner(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = signed_in_app(store_file, monkeypatch, live(["ops-triage"]))
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Today"]
    assert session.SIGNED_IN_AS.format(name="tina@example.com", role="triage") in [c.value for c in at.sidebar.caption]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert not [i.value for i in at.info if i.value.startswith("Local single-user mode")]


@pytest.mark.parametrize(
    ("user", "title", "button"),
    [
        (live(["staff"]), "No access", "Sign out"),
        (live(["ops-admins"], age_h=9), "Session expired", "Sign in again"),
    ],
    ids=["no-mapped-group", "expired"],
)
def test_the_app_refuses_an_unmapped_or_expired_sign_in(user, title, button, store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    at = signed_in_app(store_file, monkeypatch, user)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [title]
    assert [b.label for b in at.button] == [button]
    assert not at.metric and not at.dataframe


def test_an_incomplete_sign_in_setup_fails_loudly(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_file))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.secrets = {"auth": {"redirect_uri": AUTH["redirect_uri"]}}
    at.user = live(["ops-admins"])
    at.run()
    assert "lacks auth.cookie_secret, auth.client_id" in at.error[0].value
    assert len(at.exception) == 1 and not at.title


# ---------------------------------------------------------------- start-up check (as the entrypoint runs it)


def preflight(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ui.preflight", "streamlit", "run", "app.py", *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)


def write_toml(path: Path, found: dict[str, Any]) -> Path:
    lines = []
    for section, values in (("auth", AUTH), ("journeyops.role_map", found.get("role_map", ROLE_MAP))):
        lines.append(f"[{section}]")
        lines += [f'"{k}" = "{v}"' for k, v in values.items() if k not in found.get("drop", ())]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_start_up_check_refuses_an_exposed_dashboard_without_sign_in(tmp_path):
    done = preflight(tmp_path, "--server.address", "0.0.0.0", "--secrets.files", str(tmp_path / "none.toml"))
    assert done.returncode == 78 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "lacks auth.redirect_uri" in done.stderr
    partial = write_toml(tmp_path / "partial.toml", {"drop": ("client_secret",)})
    done = preflight(tmp_path, "--server.address=0.0.0.0", "--secrets.files", str(partial))
    assert (done.returncode, done.stderr.count("lacks auth.client_secret (docs")) == (78, 1)


def test_the_start_up_check_passes_localhost_and_a_configured_sign_in(tmp_path):
    assert preflight(tmp_path, "--server.address", "127.0.0.1").returncode == 0
    assert preflight(tmp_path).returncode == 0  # .streamlit/config.toml binds 127.0.0.1
    complete = write_toml(tmp_path / "secrets.toml", {})
    done = preflight(tmp_path, "--server.address", "0.0.0.0", "--secrets.files", str(complete))
    assert (done.returncode, done.stderr) == (0, "")


# ---------------------------------------------------------------- activity and tokens


def test_alert_acknowledgements_exports_and_revocations_record_the_person(store_file):
    person = roles.User("ada@example.com", "admin", identity=f"{ISSUER}|a-1", email="ada@example.com")
    activity.record_activity(person, "export_list", "at-risk list of 2026-03-10 (csv)", "40 rows", store_file)
    activity.record_activity(roles.local_user(), "acknowledge_alert", "al-1", "acknowledged", store_file)
    logged = activity.read_activity(None, store_file)
    assert sorted(logged[["action", "actor", "subject"]].values.tolist()) == [
        ["acknowledge_alert", "local", "al-1"],
        ["export_list", f"ada@example.com ({ISSUER}|a-1)", "at-risk list of 2026-03-10 (csv)"],
    ]
    with pytest.raises(ConfigError, match="unknown activity 'delete_store'"):
        activity.record_activity(person, "delete_store", "x", None, store_file)


def test_an_older_store_reads_an_empty_activity_log(tmp_path):
    older = tmp_path / "older.duckdb"
    with duckdb.connect(str(older)) as con:  # a store from before the activity log (no migration run)
        con.execute("create table schema_version (version integer, applied_at timestamp)")
    logged = activity.read_activity(None, older)
    assert (logged.columns.tolist(), len(logged)) == (activity.COLUMNS, 0)


def operations_as(role: str, store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store))
    monkeypatch.setenv("JOURNEYOPS_LOCAL_ROLE", role)
    return AppTest.from_file(str(REPO_ROOT / "pages" / "operations.py"), default_timeout=TIMEOUT_S).run()


def test_an_admin_sees_and_revokes_api_tokens_on_the_operations_page(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    crm, _ = auth.create_token("reader", "crm", store_file)
    auth.create_token("scorer", "shop", store_file)
    at = operations_as("admin", store_file, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    shown = next(d.value for d in at.dataframe if "token_id" in d.value.columns)
    assert shown[["name", "role"]].values.tolist() == [["crm", "reader"], ["shop", "scorer"]]
    assert "token_sha256" not in shown.columns
    at.selectbox(key="revoke_token").select(crm.token_id)
    at.button(key="revoke_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [t.name for t in auth.list_tokens(store_file, only_active=True)] == ["shop"]
    logged = activity.read_activity("revoke_token", store_file)
    assert logged[["actor", "subject", "detail"]].values.tolist() == [["local", crm.token_id, "reader token of crm"]]
    assert at.selectbox(key="revoke_token").options == [
        t.token_id for t in auth.list_tokens(store_file, only_active=True)
    ]


def test_an_analyst_sees_no_tokens_and_cannot_revoke_one(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    crm, _ = auth.create_token("reader", "crm", store_file)
    at = operations_as("analyst", store_file, monkeypatch)
    assert not at.exception
    assert [s.value for s in at.subheader if s.value == "API tokens"] == []
    with pytest.raises(roles.PermissionDeniedError, match=r"local \(analyst\) may not manage tokens"):
        monitoring.revoke_api_token(roles.local_user(), crm.token_id, str(store_file))
    assert auth.list_tokens(store_file, only_active=True)[0].token_id == crm.token_id


# ---------------------------------------------------------------- deploy wiring


def test_the_deploy_files_probe_the_pages_and_mount_the_sign_in_secret():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["scriptHealthCheckEnabled"] is True
    assert ops.HEALTH_URLS["dashboard"].endswith("/_stcore/script-health-check")
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    assert {"source": "streamlit_secrets", "target": "/app/.streamlit/secrets.toml"} in compose["services"][
        "dashboard"
    ]["secrets"]
    assert compose["secrets"]["streamlit_secrets"]["file"] == "./deploy/secrets/streamlit_secrets.toml"
    docs = yaml.safe_load_all((REPO_ROOT / "deploy" / "k8s" / "base" / "dashboard.yaml").read_text())
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/script-health-check"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "oidc"]
    assert (mount["mountPath"], mount["subPath"]) == ("/app/.streamlit/secrets.toml", "secrets.toml")
    (volume,) = [v for v in pod["volumes"] if v["name"] == "oidc"]
    assert volume["secret"] == {"secretName": "journeyops-oidc"}  # not optional: no settings, no start
    entrypoint = (REPO_ROOT / "deploy" / "docker-entrypoint.sh").read_text()
    assert 'python -m ui.preflight "$@" || exit $?' in entrypoint


def test_the_example_secrets_hold_every_setting_and_no_real_secret():
    for path in (
        REPO_ROOT / "deploy" / "secrets" / "streamlit_secrets.toml.example",
        REPO_ROOT / "deploy" / "k8s" / "overlays" / "example" / "secrets" / "streamlit_secrets.toml.example",
    ):
        example = tomllib.loads(path.read_text())
        assert signin.missing_settings(example) == []
        assert example["auth"]["cookie_secret"].startswith("REPLACE")
        assert example["auth"]["client_secret"].startswith("REPLACE")
        assert set(signin.load_settings(example).role_map.values()) == set(roles.ROLES)
    assert "secrets.toml" in (REPO_ROOT / ".dockerignore").read_text()


def test_an_export_records_who_took_which_list(store_file, monkeypatch):
    write_events(store_file, ORDER_WORLD_EVENTS)
    monkeypatch.setenv("JOURNEYOPS_STORE", str(store_file))
    person = roles.User("tina@example.com", "triage", identity=f"{ISSUER}|u-17", email="tina@example.com")
    worklist.record_export(person, date(2026, 3, 10), "xlsx", 40)  # the export buttons' callback
    logged = activity.read_activity("export_list", store_file)
    assert logged[["actor", "subject", "detail"]].values.tolist() == [
        [f"tina@example.com ({ISSUER}|u-17)", "at-risk list of 2026-03-10 (xlsx)", "40 rows"]
    ]


def test_the_dashboard_healthcheck_fails_when_the_pages_cannot_be_served(monkeypatch):
    answers: list[int] = []

    class Probe(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            answers.append(200 if self.path == "/_stcore/script-health-check" and len(answers) == 0 else 503)
            self.send_response(answers[-1])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/_stcore/script-health-check"
    monkeypatch.setitem(ops.HEALTH_URLS, "dashboard", url)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(["healthcheck", "--role", "dashboard"]) == 0  # the script ran (200)
            assert main(["healthcheck", "--role", "dashboard"]) == 2  # it did not (503)
    finally:
        server.shutdown()
        server.server_close()
    assert answers == [200, 503]
    assert f"dashboard answers 503 on {url}: it cannot serve its pages" in err.getvalue()
