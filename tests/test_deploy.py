"""Deploy-as-code, checked without a container engine: hadolint, kustomize + kubernetes-validate,
the compose schema, and a drift test that every command, port, path and variable named in the image,
compose and the manifests exists in the code."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.cli import build_parser
from core.cli.ops import API_PORT, DASHBOARD_PORT
from core.ops import scheduler
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "compose.yaml"
OVERLAY = REPO_ROOT / "deploy" / "k8s" / "overlays" / "example"
K8S_VERSION = "1.30.0"
ENV_NAME = re.compile(r"\bJOURNEYOPS_[A-Z0-9_]*[A-Z0-9]\b")
CODE_DIRS = ("core", "api", "ui", "pages")
# Streamlit's own endpoints; the script health check is on in .streamlit/config.toml.
STREAMLIT_PROBES = {"/_stcore/health", "/_stcore/script-health-check"}


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), (
        f"{name} is not installed in {BIN}; install the pinned dev requirements (pip install -r requirements-dev.txt)"
    )
    return str(path)


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120, check=False)


def overlay_copy(folder: Path, webhook_url: str | None) -> Path:
    """A copy of deploy/k8s with the operator's secret file written (or not) into the example overlay."""
    shutil.copytree(REPO_ROOT / "deploy" / "k8s", folder / "k8s")
    overlay = folder / "k8s" / OVERLAY.relative_to(REPO_ROOT / "deploy" / "k8s")
    (overlay / "secrets" / "webhook_url").unlink(missing_ok=True)
    if webhook_url is not None:
        (overlay / "secrets" / "webhook_url").write_text(webhook_url)
    # The sign-in settings are an operator's file too; the example's form stands in for them here.
    example = overlay / "secrets" / "streamlit_secrets.toml.example"
    (overlay / "secrets" / "streamlit_secrets.toml").write_text(example.read_text())
    return overlay


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example overlay rendered by kustomize (kubectl's built-in, offline), with a secret supplied."""
    overlay = overlay_copy(tmp_path_factory.mktemp("deploy"), "https://hooks.test.invalid/operator-supplied")
    done = run([tool("kubectl"), "kustomize", str(overlay)])
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_example_overlay_does_not_deploy_the_placeholder_webhook(tmp_path: Path, rendered: str) -> None:
    # Without the operator's own secrets/webhook_url the overlay does not render at all.
    done = run([tool("kubectl"), "kustomize", str(overlay_copy(tmp_path, None))])
    assert done.returncode != 0
    assert "secrets/webhook_url" in done.stderr
    assert "hooks.example.invalid" not in rendered
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Secret"}
    secret = secrets["journeyops-secrets"]
    assert base64.b64decode(secret["data"]["webhook_url"]).decode() == "https://hooks.test.invalid/operator-supplied"


@pytest.fixture(scope="module")
def manifests(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


# ---------------------------------------------------------------- linters and validators


def test_dockerfile_passes_hadolint() -> None:
    done = run([tool("hadolint"), "--no-color", "-f", "json", str(DOCKERFILE)])
    assert (done.returncode, json.loads(done.stdout or "[]")) == (0, [])


def test_kubernetes_manifests_validate_strictly_against_a_pinned_version(rendered: str) -> None:
    done = run([tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, "-"], stdin=rendered)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("passed for resource") == 13  # 11 of the base, the namespace, 2 Secrets


def test_compose_file_matches_the_compose_spec() -> None:
    done = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_validators_catch_a_broken_file(tmp_path: Path) -> None:
    # A check that cannot fail proves nothing: each validator rejects a known-bad input.
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN apt-get install curl\n")
    assert run([tool("hadolint"), "--no-color", str(tmp_path / "Dockerfile")]).returncode == 1
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {prots: []}\n"
    assert run([tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, "-"], stdin=bad).returncode == 1
    (tmp_path / "compose.yaml").write_text("services:\n  x:\n    image: 3\n    restart: sometimes\n")
    done = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(tmp_path / "compose.yaml")])
    assert done.returncode == 1


# ---------------------------------------------------------------- what the manifests promise


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def test_deployments_have_probes_resources_and_run_as_the_image_user(manifests: list[dict[str, Any]]) -> None:
    deployments = of_kind(manifests, "Deployment")
    assert sorted(deployments) == ["journeyops-api", "journeyops-dashboard"]
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsNonRoot"]
        (container,) = pod["containers"]
        assert {"readinessProbe", "livenessProbe"} <= set(container)
        assert set(container["resources"]) == {"requests", "limits"}
    services = of_kind(manifests, "Service")
    assert {n: s["spec"]["ports"][0]["port"] for n, s in services.items()} == {
        "journeyops-api": API_PORT,
        "journeyops-dashboard": DASHBOARD_PORT,
    }


def test_cronjobs_forbid_overlap_and_cover_daily_weekly_backup(manifests: list[dict[str, Any]]) -> None:
    cronjobs = of_kind(manifests, "CronJob")
    assert {n: (c["spec"]["schedule"], c["spec"]["concurrencyPolicy"]) for n, c in cronjobs.items()} == {
        "journeyops-daily": ("0 6 * * *", "Forbid"),
        "journeyops-weekly-report": ("0 7 * * 1", "Forbid"),
        "journeyops-backup": ("0 2 * * *", "Forbid"),
    }
    # the cron lines say what core.ops.scheduler's schedule says
    by_job = {j.name: j for j in scheduler.DEFAULT_SCHEDULE}
    for cronjob in cronjobs.values():
        args = containers_of(cronjob)[0]["args"]
        job = by_job[args[args.index("--job") + 1]]
        minute, hour, _, _, weekday = cronjob["spec"]["schedule"].split()
        assert (int(hour), int(minute)) == (job.at.hour, job.at.minute)
        assert weekday == ("*" if job.weekday is None else str(job.weekday + 1))


def test_secrets_are_referenced_never_inlined(manifests: list[dict[str, Any]]) -> None:
    base = [
        doc
        for f in (REPO_ROOT / "deploy" / "k8s" / "base").glob("*.yaml")
        for doc in yaml.safe_load_all(f.read_text())
        if doc
    ]
    assert [d for d in base if d.get("kind") == "Secret"] == []
    for deployment in of_kind(manifests, "Deployment").values():
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["secrets"]["secret"]["secretName"] == "journeyops-secrets"
    for path in (REPO_ROOT / "deploy").rglob("*"):
        if path.is_file() and "secrets" in path.parts:
            assert path.name in {".gitignore"} or path.name.endswith(".example"), f"{path} looks like a real secret"


# ---------------------------------------------------------------- drift: names in deploy files exist in code


def containers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return list(spec["template"]["spec"]["containers"])


def dockerfile_instructions() -> Iterator[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            yield keyword.upper(), rest.strip()


def exec_form(text: str) -> list[str]:
    return json.loads(text) if text.startswith("[") else shlex.split(text)


def all_commands(compose: dict[str, Any], manifests: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(where, argv) of every command the image, compose and manifests run (entrypoint stripped)."""
    found: list[tuple[str, list[str]]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "CMD":
            found.append(("Dockerfile CMD", exec_form(rest)))
        if keyword == "HEALTHCHECK":
            found.append(("Dockerfile HEALTHCHECK", exec_form(rest.split(" CMD ", 1)[1])))
    for name, service in compose["services"].items():
        entry = [p for p in service.get("entrypoint", []) if not p.endswith("docker-entrypoint.sh")]
        found.append((f"compose {name}", entry + list(service["command"])))
    for doc in manifests:
        for container in containers_of(doc) if doc["kind"] in {"Deployment", "CronJob"} else []:
            found.append((f"{doc['kind']} {doc['metadata']['name']}", list(container["args"])))
    return found


def parse_core_command(argv: list[str], where: str) -> argparse.Namespace:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(
            f"{where} runs `python -m core {' '.join(argv)}`, which the CLI does not accept: "
            f"{err.getvalue().strip().splitlines()[-1]}"
        )


def test_every_core_command_named_anywhere_is_a_real_cli_command(
    compose: dict[str, Any], manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    commands = [(w, argv[3:]) for w, argv in all_commands(compose, manifests) if argv[:3] == ["python", "-m", "core"]]
    assert {argv[0] for _, argv in commands} == {"healthcheck", "scheduler", "status"}
    for where, argv in commands:
        parse_core_command(argv, where)
    for _where, argv in commands:  # the CronJobs name jobs of the schedule
        if "--job" in argv:
            scheduler.select_jobs([argv[argv.index("--job") + 1]])


def test_every_command_of_the_schedule_is_a_real_cli_command(store_file: Path) -> None:
    # The schedule runs these (CronJobs and the compose scheduler through it), including the weekly
    # report: this fails, naming it, until `python -m core report weekly --week ... --out ...` exists.
    for job in scheduler.DEFAULT_SCHEDULE:
        argv = list(scheduler.render_command(job, datetime(2026, 3, 9, 7, 0), store_file))
        parse_core_command(argv, f"the scheduled job {job.name!r} (core/ops/scheduler.py)")


def test_servers_listen_on_the_apps_ports_and_serve_the_probed_paths(
    compose: dict[str, Any], manifests: list[dict[str, Any]]
) -> None:
    streamlit_port = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())["server"]["port"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert streamlit_port == DASHBOARD_PORT == int(re.search(r"^PORT\s*\?=\s*(\d+)", makefile, re.M)[1])
    assert API_PORT == int(re.search(r"^API_PORT\s*\?=\s*(\d+)", makefile, re.M)[1])
    for where, argv in all_commands(compose, manifests):
        if argv[:2] == ["streamlit", "run"]:
            assert (REPO_ROOT / argv[2]).is_file(), where
            assert int(argv[argv.index("--server.port") + 1]) == DASHBOARD_PORT, where
        if argv[:1] == ["uvicorn"]:
            module, _, factory = argv[argv.index("--factory") + 1].partition(":")
            assert hasattr(__import__(module, fromlist=[factory]), factory), where
            assert int(argv[argv.index("--port") + 1]) == API_PORT, where
    exposed = {int(p) for k, rest in dockerfile_instructions() if k == "EXPOSE" for p in rest.split()}
    assert exposed == {DASHBOARD_PORT, API_PORT}
    published = {n: [p.rsplit(":", 1)[1] for p in s.get("ports", [])] for n, s in compose["services"].items()}
    assert published == {"dashboard": [str(DASHBOARD_PORT)], "api": [str(API_PORT)], "scheduler": [], "cli": []}
    assert all(p.startswith("127.0.0.1:") for s in compose["services"].values() for p in s.get("ports", []))
    from api.main import create_app

    api_paths = set(create_app().openapi()["paths"])
    for doc in of_kind(manifests, "Deployment").values():
        (container,) = containers_of(doc)
        for probe in ("readinessProbe", "livenessProbe"):
            path = container[probe]["httpGet"]["path"]
            assert path in api_paths | STREAMLIT_PROBES, f"{doc['metadata']['name']} probes {path}"
        assert container["ports"][0]["containerPort"] in {DASHBOARD_PORT, API_PORT}


def code_text() -> str:
    files = [REPO_ROOT / "app.py"] + [p for d in CODE_DIRS for p in (REPO_ROOT / d).rglob("*.py")]
    return "\n".join(p.read_text() for p in files)


def deploy_texts() -> dict[str, str]:
    files = [
        DOCKERFILE,
        COMPOSE,
        *sorted((REPO_ROOT / "deploy").rglob("*.yaml")),
        REPO_ROOT / "deploy" / "docker-entrypoint.sh",
    ]
    return {str(p.relative_to(REPO_ROOT)): p.read_text() for p in files}


def test_every_journeyops_variable_named_in_deploy_files_is_read_by_the_code() -> None:
    from api.settings import ENV_PREFIX, Settings

    code = code_text()
    named = {(name, where) for where, text in deploy_texts().items() for name in ENV_NAME.findall(text)}
    assert {"JOURNEYOPS_STORE", "JOURNEYOPS_MODELS", "JOURNEYOPS_WEBHOOK_URL_FILE"} <= {n for n, _ in named}
    for name, where in sorted(named):
        # secrets come as files: the entrypoint turns JOURNEYOPS_X_FILE into JOURNEYOPS_X
        base = name.removesuffix("_FILE")
        if base.startswith(ENV_PREFIX):
            assert base.removeprefix(ENV_PREFIX).lower() in Settings.model_fields, f"{where}: {name}"
        else:
            assert f'"{base}"' in code or f"'{base}'" in code, (
                f"{where} sets {name}, but nothing in {', '.join(CODE_DIRS)} or app.py reads {base}"
            )


def test_every_path_named_exists(compose: dict[str, Any]) -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            for source in rest.split()[:-1]:
                assert (REPO_ROOT / source).exists(), f"Dockerfile COPY {source}: no such file"
    entrypoint = REPO_ROOT / "deploy" / "docker-entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENTRYPOINT":
            assert exec_form(rest) == ["/app/" + str(entrypoint.relative_to(REPO_ROOT))]
    for service in compose["services"].values():
        assert (REPO_ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    for secret in compose["secrets"].values():
        file = REPO_ROOT / secret["file"]
        assert file.exists() or file.with_name(file.name + ".example").exists(), secret["file"]
    # every path-valued setting lives on a volume the service mounts
    volumes = {n: [v.split(":")[1] for v in s["volumes"]] for n, s in compose["services"].items()}
    for name, service in compose["services"].items():
        for key, value in service["environment"].items():
            if key.startswith("JOURNEYOPS_") and str(value).startswith("/") and not key.endswith("_FILE"):
                assert any(str(value).startswith(m) for m in volumes[name]), f"compose {name}: {key}={value}"
    declared = next(rest for k, rest in dockerfile_instructions() if k == "VOLUME")
    assert sorted(json.loads(declared)) == sorted(set(sum(volumes.values(), [])))


# ---------------------------------------------------------------- the Spark daily's examples (issue 17)

SPARK_DIR = REPO_ROOT / "deploy" / "k8s" / "spark"
LAKE_SECRET = "journeyops-lake-s3"
YESTERDAY = '"$(date -u -d yesterday +%F)"'
# What the Spark operator (sparkoperator.k8s.io/v1beta2) needs of a Python SparkApplication.
SPARK_APP_REQUIRED = {
    "spec": {"type", "mode", "image", "mainApplicationFile", "sparkVersion", "driver", "executor"},
    "driver": {"cores", "memory", "serviceAccount"},
    "executor": {"instances", "cores", "memory"},
}


def spark_docs(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((SPARK_DIR / name).read_text()) if doc]


def spark_application_problems(app: dict[str, Any]) -> list[str]:
    """What keeps a SparkApplication from being the Spark daily the operator can run (empty: none)."""
    if (app.get("apiVersion"), app.get("kind")) != ("sparkoperator.k8s.io/v1beta2", "SparkApplication"):
        return [f"not a v1beta2 SparkApplication: {app.get('apiVersion')} {app.get('kind')}"]
    spec = app.get("spec", {})
    parts = {"spec": spec, "driver": spec.get("driver", {}), "executor": spec.get("executor", {})}
    problems = [f"{part} lacks {sorted(need - set(parts[part]))}" for part, need in SPARK_APP_REQUIRED.items()]
    problems = [p for p in problems if not p.endswith("[]")]
    if (spec.get("type"), spec.get("mode")) != ("Python", "cluster"):
        problems.append(f"type/mode {spec.get('type')}/{spec.get('mode')}, not Python/cluster")
    main_file = str(spec.get("mainApplicationFile", ""))
    if main_file != "local:///app/core/__main__.py" or not (REPO_ROOT / "core" / "__main__.py").is_file():
        problems.append(f"mainApplicationFile {main_file!r} is not the image's `python -m core`")
    volumes = {v["name"] for v in spec.get("volumes", [])}
    for part in ("driver", "executor"):
        missing = {m["name"] for m in parts[part].get("volumeMounts", [])} - volumes
        if missing:
            problems.append(f"{part} mounts undeclared volumes {sorted(missing)}")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            build_parser().parse_args([str(a) for a in spec.get("arguments", [])])
    except SystemExit:
        problems.append(f"arguments are not a `python -m core` command: {err.getvalue().strip().splitlines()[-1]}")
    return problems


def mounts_of(pod_part: dict[str, Any]) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in pod_part.get("volumeMounts", [])}


def secret_refs(env: list[dict[str, Any]]) -> dict[str, str]:
    """Environment variables set from a Secret: name -> secret name; fails on a literal AWS value."""
    for var in env:
        assert not (var["name"].startswith("AWS_") and "value" in var), f"{var['name']} is inlined"
    return {v["name"]: v["valueFrom"]["secretKeyRef"]["name"] for v in env if "secretKeyRef" in v.get("valueFrom", {})}


def test_the_spark_application_runs_the_spark_daily_with_the_pinned_spark_and_referenced_secrets() -> None:
    (app,) = spark_docs("sparkapplication.yaml")
    assert spark_application_problems(app) == []
    spec = app["spec"]
    args = build_parser().parse_args([str(a) for a in spec["arguments"]])
    assert (args.command, args.engine) == ("daily", "spark")
    assert args.lake.startswith("s3a://") and args.master.startswith("k8s://https://")
    pinned = re.search(r"^pyspark==(\S+)$", (REPO_ROOT / "requirements-spark.txt").read_text(), re.M)
    assert pinned is not None and spec["sparkVersion"] == pinned[1]
    # the store on the driver alone (it loads the day), the outputs on every pod of the run
    volumes = {v["name"]: v for v in spec["volumes"]}
    driver, executor = mounts_of(spec["driver"]), mounts_of(spec["executor"])
    store_dir = str(Path(args.store).parent)
    assert volumes[driver[store_dir]]["persistentVolumeClaim"]["claimName"] == "journeyops-data"
    assert store_dir not in executor
    assert driver[args.outputs] == executor[args.outputs] == "outputs"
    (outputs_claim,) = spark_docs("pvc.yaml")
    assert volumes["outputs"]["persistentVolumeClaim"]["claimName"] == outputs_claim["metadata"]["name"]
    assert outputs_claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for part in ("driver", "executor"):
        assert set(secret_refs(spec[part]["env"]).values()) == {LAKE_SECRET}
        assert {"name": "PYTHONPATH", "value": "/app"} in spec[part]["env"]
    assert spec["driver"]["serviceAccount"] == "journeyops-spark"


def test_the_spark_application_check_rejects_a_broken_one() -> None:
    (app,) = spark_docs("sparkapplication.yaml")
    broken = json.loads(json.dumps(app))
    del broken["spec"]["executor"]["memory"]
    broken["spec"]["arguments"] = ["daily", "--engine", "flink"]
    broken["spec"]["driver"]["volumeMounts"].append({"name": "nowhere", "mountPath": "/x"})
    problems = spark_application_problems(broken)
    assert len(problems) == 3
    assert "executor lacks ['memory']" in problems
    assert any("--engine" in p and "flink" in p for p in problems)
    assert any("nowhere" in p for p in problems)
    assert spark_application_problems({**app, "apiVersion": "sparkoperator.k8s.io/v1beta1"}) != []


def test_the_hadoop_aws_package_matches_the_hadoop_of_the_pinned_pyspark() -> None:
    import pyspark  # requirements-spark.txt, installed by `make test`

    (jar,) = (Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar")
    hadoop = jar.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    (app,) = spark_docs("sparkapplication.yaml")
    assert app["spec"]["deps"]["packages"] == [f"org.apache.hadoop:hadoop-aws:{hadoop}"]
    conf = of_kind(spark_docs("cronjob-spark.yaml"), "ConfigMap")["journeyops-spark-conf"]["data"]
    assert f"org.apache.hadoop:hadoop-aws:{hadoop}\n" in conf["spark-defaults.conf"]


def test_the_spark_cronjob_and_its_rbac_validate_strictly_against_a_pinned_version() -> None:
    docs = spark_docs("pvc.yaml") + spark_docs("cronjob-spark.yaml")
    done = run([tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, "-"], stdin=yaml.safe_dump_all(docs))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("passed for resource") == len(docs) == 6


def spark_defaults(text: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key: value.strip() for key, value in pairs}


def test_the_spark_cronjob_runs_the_spark_daily_for_the_day_that_ended_every_morning() -> None:
    docs = spark_docs("cronjob-spark.yaml")
    (cronjob,) = of_kind(docs, "CronJob").values()
    assert (cronjob["spec"]["schedule"], cronjob["spec"]["concurrencyPolicy"]) == ("0 5 * * *", "Forbid")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    shell, flag, script = container["args"]
    assert (shell, flag) == ("sh", "-c") and script.count(YESTERDAY) == 1
    # the date the shell works out is one the CLI takes
    day = subprocess.run(["date", "-u", "-d", "yesterday", "+%F"], capture_output=True, text=True, check=True)
    argv = shlex.split(script.replace(YESTERDAY, day.stdout.strip()))
    assert argv[:4] == ["exec", "python", "-m", "core"]
    args = parse_core_command(argv[4:], "the Spark CronJob")
    assert (args.command, args.engine, args.as_of) == ("daily", "spark", day.stdout.strip())
    assert args.lake.startswith("s3a://") and args.master.startswith("k8s://https://")
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = mounts_of(container)
    assert volumes[mounts[str(Path(args.store).parent)]]["persistentVolumeClaim"]["claimName"] == "journeyops-data"
    (outputs_claim,) = spark_docs("pvc.yaml")
    claim = outputs_claim["metadata"]["name"]
    assert volumes[mounts[args.outputs]]["persistentVolumeClaim"]["claimName"] == claim
    # the executors: the same outputs claim and path, the same Secret, by reference
    conf_dir = next(e["value"] for e in container["env"] if e["name"] == "SPARK_CONF_DIR")
    conf_map = volumes[mounts[conf_dir]]["configMap"]["name"]
    conf = spark_defaults(of_kind(docs, "ConfigMap")[conf_map]["data"]["spark-defaults.conf"])
    executor_pvc = "spark.kubernetes.executor.volumes.persistentVolumeClaim.outputs"
    assert (conf[f"{executor_pvc}.mount.path"], conf[f"{executor_pvc}.options.claimName"]) == (args.outputs, claim)
    assert {v.split(":")[0] for k, v in conf.items() if ".secretKeyRef." in k} == {LAKE_SECRET}
    assert set(secret_refs(container["env"]).values()) == {LAKE_SECRET}
    # the pod's account is the one the Role lets create executor pods
    (binding,) = of_kind(docs, "RoleBinding").values()
    assert (
        pod["serviceAccountName"]
        == binding["subjects"][0]["name"]
        == conf["spark.kubernetes.authenticate.driver.serviceAccountName"]
    )
    (role,) = of_kind(docs, "Role").values()
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert {"create", "delete", "watch"} <= set(role["rules"][0]["verbs"]) and "pods" in role["rules"][0]["resources"]


def test_the_spark_examples_hold_no_secret() -> None:
    for path in SPARK_DIR.glob("*.yaml"):
        assert [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "Secret"] == [], path
