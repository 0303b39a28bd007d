"""Imports point down only: core is usable without Streamlit or FastAPI, its packages import only
downward in one declared order of layers, and no modules import each other in a cycle."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import REPO_ROOT

FORBIDDEN_IN_CORE = {"streamlit", "fastapi", "uvicorn", "starlette", "pickle", "joblib"}


def imported_roots(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_core_imports_neither_streamlit_nor_fastapi_nor_pickle():
    offenders = {
        (str(path.relative_to(REPO_ROOT)), root)
        for path in (REPO_ROOT / "core").rglob("*.py")
        for root in imported_roots(path)
        if root in FORBIDDEN_IN_CORE
    }
    assert offenders == set()


def test_pyspark_and_sqlglot_are_imported_only_by_the_spark_engine():
    # The product runs without them (requirements-spark.txt is optional); core.engine.spark imports
    # PySpark lazily, and its transpiler (sqlglot) is imported only by it and its rewrites.
    allowed = {
        "pyspark": {"core/engine/spark.py"},
        "sqlglot": {"core/engine/transpile.py", "core/engine/asof.py"},
    }
    offenders = {
        (str(path.relative_to(REPO_ROOT)), root)
        for path in (REPO_ROOT / "core").rglob("*.py")
        for root in imported_roots(path)
        if root in allowed and str(path.relative_to(REPO_ROOT)) not in allowed[root]
    }
    assert offenders == set()


def test_sql_is_never_built_by_formatting():
    # A formatted string passed to execute() is how injection gets in; values must be bound.
    offenders = []
    for path in (REPO_ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "sql", "query"}
                and node.args
                and isinstance(node.args[0], ast.JoinedStr)
            ):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert offenders == []


# --- Layers: packages import only downward, in this order, with no cycles -------------------------
# The order is the one the imports really follow (DESIGN §5 lists the stages in life-cycle order):
# - `access` (roles, tokens) sits just above the kernel: the triage actions and export check roles;
# - `engine` (DuckDB or Spark run the same named SQL) sits just below `features`, its first user;
# - `monitor` sits below `registry` and `scoring`: scoring calibrates drift thresholds per champion
#   with `monitor.drift`, and the monitor needs only the kernel, `features` and `models.metrics`;
# - `__main__` belongs to `cli`, the top layer.
LAYERS: tuple[str, ...] = (
    "kernel",
    "access",
    "world",
    "ingest",
    "engine",
    "features",
    "models",
    "monitor",
    "registry",
    "scoring",
    "triage",
    "views",
    "report",
    "jobs",
    "ops",
    "cli",
)
KERNEL: frozenset[str] = frozenset({"__init__", "config", "domain", "errors", "logs", "store"})


def module_name(root: Path, path: Path) -> str:
    """`core/jobs/daily.py` -> `core.jobs.daily`; a package's `__init__.py` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer a `core` module belongs to: the kernel modules, else its first name under `core`."""
    first = module.split(".")[1] if "." in module else "__init__"
    if first in KERNEL:
        return "kernel"
    return "cli" if first == "__main__" else first


def _resolve(target: str, modules: set[str]) -> str:
    # `from core.jobs import daily` names the module core.jobs.daily; `from core.domain import X` core.domain.
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def imports_by_module(root: Path, package: str = "core") -> dict[str, set[str]]:
    """Every `core` module a `core` module imports: module level or inside a function, absolute or relative."""
    paths = {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}
    modules = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        graph[module] = {_resolve(t, modules) for t in targets if t == package or t.startswith(package + ".")} - {
            module
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def architecture_violations(root: Path, layers: Sequence[str] = LAYERS) -> list[str]:
    """What breaks the layering under `root/core`: a module outside the declared layers, an import
    that points to a higher layer, and every import cycle between modules."""
    rank = {layer: i for i, layer in enumerate(layers)}
    graph = imports_by_module(root)
    problems = [f"{m} is in no declared layer ({layer_of(m)})" for m in sorted(graph) if layer_of(m) not in rank]
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = layer_of(module), layer_of(target)
            if here in rank and there in rank and rank[there] > rank[here]:
                problems.append(f"{module} ({here}) imports {target} ({there}), a higher layer")
    problems += ["import cycle: " + " -> ".join(cycle) for cycle in _cycles(graph)]
    return problems


def test_core_imports_point_down_only_and_never_in_a_cycle():
    assert architecture_violations(REPO_ROOT) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


SMALL_CORE = {
    "core/__init__.py": "",
    "core/store.py": "import os\n",
    "core/features.py": "from core import store\n",
    "core/jobs/__init__.py": '"""Jobs."""\n',
    "core/jobs/daily.py": "from core import features\nfrom core.store import os\n",
    "core/jobs/closed_loop.py": "from . import daily\nfrom ..features import store\n",
}


def test_a_tree_importing_downward_passes(tmp_path):
    root = _tree(tmp_path, SMALL_CORE)
    assert imports_by_module(root)["core.jobs.closed_loop"] == {"core.jobs.daily", "core.features"}
    assert architecture_violations(root) == []


def test_an_upward_import_inside_a_function_fails(tmp_path):
    root = _tree(
        tmp_path,
        {
            **SMALL_CORE,
            "core/features.py": """
        from core import store

        def build():
            from core.jobs import daily
            return daily
    """,
        },
    )
    assert architecture_violations(root) == [
        "core.features (features) imports core.jobs.daily (jobs), a higher layer",
        "import cycle: core.features -> core.jobs.daily",
    ]


def test_a_cycle_within_one_package_fails(tmp_path):
    root = _tree(
        tmp_path,
        {
            **SMALL_CORE,
            "core/jobs/daily.py": """
        from core import features

        def feed():
            from core.jobs import closed_loop
            return closed_loop
    """,
        },
    )
    assert architecture_violations(root) == ["import cycle: core.jobs.closed_loop -> core.jobs.daily"]


def test_a_package_outside_the_layers_fails(tmp_path):
    root = _tree(tmp_path, {**SMALL_CORE, "core/extras/__init__.py": "from core import store\n"})
    assert architecture_violations(root) == ["core.extras is in no declared layer (extras)"]
