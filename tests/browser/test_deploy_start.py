"""The dashboard started exactly as the image and the compose service start it — the Dockerfile's
ENTRYPOINT and ENV, its WORKDIR and copied files, the compose service's command, environment and
secrets — with the container's paths mapped into a temporary folder and the port onto a free host
port (what `ports:` does), nothing else changed. Bound to 0.0.0.0 it refuses to start without the
sign-in settings, with one line naming them, and serves its pages (a real sign-in included) with them.
Started around the entrypoint, the health probe the deploy files use fails instead of passing."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.cli.ops import DASHBOARD_PORT
from tests.browser import oidc
from tests.browser.oidc import WAIT_MS, settle, sign_in
from tests.browser.test_process_insights_page import chromium_page, free_port, wait_until_healthy
from tests.conftest import REPO_ROOT
from tests.fixtures_worklist import demo_daily_store
from ui.preflight import EXIT_REFUSED

pytestmark = pytest.mark.browser

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "compose.yaml"
K8S_DASHBOARD = REPO_ROOT / "deploy" / "k8s" / "base" / "dashboard.yaml"
# Container paths and where they live in the test (the volumes, the secrets, the venv, /tmp, the app).
CONTAINER_ROOTS = ("/app", "/data", "/backups", "/run/secrets", "/tmp")
REFUSE_TIMEOUT_S = 60


def final_stage() -> list[tuple[str, str]]:
    """(instruction, rest) of the Dockerfile's last stage, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            if keyword.upper() == "FROM":
                found = []
            found.append((keyword.upper(), rest.strip()))
    return found


def exec_form(text: str) -> list[str]:
    return json.loads(text) if text.startswith("[") else shlex.split(text)


def dashboard_service() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]["dashboard"]


class Container:
    """The image's file system and environment, laid out under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv_bin = Path(sys.executable).parent

    def host(self, path: str) -> str:
        """Where a container path lives in the test (the venv for /opt/venv/bin)."""
        if path.startswith("/opt/venv/bin"):
            return str(self.venv_bin) + path.removeprefix("/opt/venv/bin")
        for prefix in CONTAINER_ROOTS:
            if path == prefix or path.startswith(prefix + "/"):
                return str(self.root / prefix.lstrip("/")) + path.removeprefix(prefix)
        return path

    def lay_out(self) -> tuple[Path, list[str], dict[str, str]]:
        """Copy-as-symlinks what the Dockerfile COPYs; the WORKDIR, ENTRYPOINT and ENV (PATH's $PATH
        is the host's)."""
        workdir, entrypoint, env = "/", [], {}
        for keyword, rest in final_stage():
            if keyword == "COPY" and "--from=" not in rest:
                *sources, dest = rest.split()
                for source in sources:
                    # `COPY dir/ /x/` copies the folder as /x; `COPY a b /x/` puts each in /x/
                    into_folder = dest.endswith("/") and not source.endswith("/")
                    target = Path(self.host(dest.rstrip("/")))
                    target = target / Path(source).name if into_folder else target
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(REPO_ROOT / source.rstrip("/"))
            elif keyword == "WORKDIR":
                workdir = rest
            elif keyword == "ENTRYPOINT":
                entrypoint = exec_form(rest)
            elif keyword == "ENV":
                for pair in shlex.split(rest):
                    name, _, value = pair.partition("=")
                    env[name] = value.replace("$PATH", os.environ["PATH"])
        for prefix in CONTAINER_ROOTS:
            (self.root / prefix.lstrip("/")).mkdir(parents=True, exist_ok=True)
        env = {k: ":".join(self.host(p) for p in v.split(":")) for k, v in env.items()}
        return Path(self.host(workdir)), [self.host(p) for p in entrypoint], env


@contextlib.contextmanager
def started(root: Path, port: int, with_signin: str | None) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """The compose dashboard service's container, published on `port`, started with the sign-in
    secret `with_signin` (or none); yields (process, its URL, its log)."""
    container = Container(root)
    workdir, entrypoint, env = container.lay_out()
    service = dashboard_service()
    env.update({k: container.host(str(v)) for k, v in service["environment"].items()})
    for secret in service["secrets"]:
        name, target = (secret, f"/run/secrets/{secret}") if isinstance(secret, str) else secret.values()
        if name == "webhook_url":
            Path(container.host(target)).write_text("http://127.0.0.1:9/unused-webhook")
        elif with_signin is not None:
            oidc.write_secrets(Path(container.host(target)), with_signin)
    command = list(service["command"])
    command[command.index("--server.port") + 1] = str(port)  # the host port `ports:` maps to 8501
    log = root / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(entrypoint + command, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.PIPE)
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_the_image_compose_and_manifest_start_the_dashboard_the_same_way():
    cmd = next(exec_form(rest) for keyword, rest in final_stage() if keyword == "CMD")
    (manifest,) = [d for d in yaml.safe_load_all(K8S_DASHBOARD.read_text()) if d["kind"] == "Deployment"]
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    assert dashboard_service()["command"] == cmd == container["args"]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert int(cmd[cmd.index("--server.port") + 1]) == DASHBOARD_PORT


def test_without_sign_in_settings_it_refuses_to_start_with_one_line(tmp_path):
    with started(tmp_path, free_port(), with_signin=None) as (process, url, _log):
        assert process.wait(timeout=REFUSE_TIMEOUT_S) == EXIT_REFUSED
        assert process.stderr is not None
        lines = process.stderr.read().decode().splitlines()
    assert lines == [
        "journeyops: the dashboard listens on '0.0.0.0', which needs sign-in, but .streamlit/secrets.toml lacks "
        "auth.redirect_uri, auth.cookie_secret, auth.client_id, auth.client_secret, auth.server_metadata_url, "
        "journeyops.role_map (docs/deploy.md, section Sign-in; or serve local mode on --server.address 127.0.0.1)"
    ]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)


def test_with_sign_in_settings_it_serves_its_pages(tmp_path, tmp_path_factory):
    root = tmp_path / "container"
    (root / "data").mkdir(parents=True)
    shutil.copy(demo_daily_store(tmp_path_factory), root / "data" / "journeyops.duckdb")
    port = free_port()
    with oidc.running_provider() as provider:
        # the redirect URI names the address the browser uses: the published port on 127.0.0.1
        secrets_text = oidc.secrets_toml(provider, f"http://127.0.0.1:{port}", oidc.new_cookie_secret())
        with started(root, port, with_signin=secrets_text) as (process, url, log):
            wait_until_healthy(url, process, log)
            assert status_of(f"{url}/_stcore/script-health-check") == 200
            with chromium_page() as page:
                sign_in(page, url, "ada")
                page.get_by_role("heading", name="Today").wait_for(timeout=WAIT_MS)
                settle(page)
                assert page.get_by_text("Signed in as ada@example.com — role admin").count() == 1


def test_around_the_entrypoint_the_health_probe_fails_instead_of_passing(tmp_path):
    # Started without the entrypoint's check and without sign-in: the server is up, but the probe
    # the deploy files use (the script health check) says it cannot serve its pages.
    container = Container(tmp_path)
    workdir, _entrypoint, env = container.lay_out()
    port = free_port()
    command = list(dashboard_service()["command"])
    command[command.index("--server.port") + 1] = str(port)
    log = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(url, process, log)
        assert status_of(f"{url}/_stcore/health") == 200
        deadline = time.monotonic() + 30
        while status_of(f"{url}/_stcore/script-health-check") != 503:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=10)
