"""Imports point down only: core is usable without Streamlit or FastAPI."""

from __future__ import annotations

import ast

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
