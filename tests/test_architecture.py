"""Imports point down only: core is usable without Streamlit or FastAPI, its packages import only
downward in one declared order of layers, and no modules import each other in a cycle."""

from __future__ import annotations

import ast
import re
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


# Every product module that could build SQL: the whole tree but the tests and hidden folders (.venv).
def product_modules(root: Path = REPO_ROOT) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.py")
        if not any(part.startswith(".") or part == "tests" for part in path.relative_to(root).parts)
    )


SQL_TEXT = re.compile(
    r"\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b"
    r"|\bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view|index|macro)\b|\bdrop\s+(table|view)\b"
    r"|\balter\s+table\b|\bcopy\s+\w+\s+(from|to)\b|\battach\b",
    re.IGNORECASE,
)
SQL_CALLS = {"execute", "executemany", "sql", "query", "fetch_df"}


def _formatted_text(node: ast.AST) -> str | None:
    """The literal text of a string built by formatting (f-string, str.format, %), else None."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return node.func.value.value
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
    ):
        return node.left.value
    return None


def sql_formatting(source: str, where: str) -> list[str]:
    """Places in `source` where SQL is built by formatting: any formatted string whose text reads as
    SQL, and any formatted or concatenated string handed to execute()/sql()/query()/fetch_df()."""
    found = []
    for node in ast.walk(ast.parse(source)):
        text = _formatted_text(node)
        if text is not None and SQL_TEXT.search(text):
            found.append(f"{where}:{node.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
            and node.args
            and (
                _formatted_text(node.args[0]) is not None
                or (isinstance(node.args[0], ast.BinOp) and isinstance(node.args[0].op, ast.Add))
            )
        ):
            found.append(f"{where}:{node.lineno}")
    return sorted(set(found))


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
    # A formatted string that becomes SQL is how injection gets in; values must be bound ($params).
    modules = product_modules()
    assert {p.relative_to(REPO_ROOT).parts[0] for p in modules} >= {"core", "api", "ui", "pages", "bench", "app.py"}
    offenders = [o for path in modules for o in sql_formatting(path.read_text(), str(path.relative_to(REPO_ROOT)))]
    assert offenders == []


def test_the_sql_formatting_guard_sees_every_form():
    source = textwrap.dedent(
        """
        con.execute(f"select * from orders where id = '{order_id}'")
        con.sql("select * from {} where id = 1".format(table))
        con.execute("delete from events where id = '%s'" % event_id)
        query = f"insert into orders values ('{order_id}')"
        store.fetch_df("select " + columns + " from orders")
        message = f"{rows} rows selected; pick one from the list"
        con.execute(store.load_sql("orders_read"), {"id": order_id})
        con.execute("select count(*) from orders")
        """
    )
    assert sql_formatting(source, "x.py") == ["x.py:2", "x.py:3", "x.py:4", "x.py:5", "x.py:6"]


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
KERNEL: frozenset[str] = frozenset({"__init__", "config", "domain", "errors", "logs", "provenance", "store"})


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
