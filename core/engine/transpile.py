"""DuckDB SQL of core/sql to Spark SQL, through sqlglot's syntax tree (no text is pasted together).

Parameters (`$name`) are bound as typed literals in the tree, never formatted into the text. Then a
few rewrites turn what Spark lacks, or what sqlglot renders with other meaning, into equivalents:
- ``ASOF [LEFT] JOIN`` becomes a window ``last_value(... ignore nulls)`` over the union of both
  sides' instants, then an equality join (Spark has no as-of join);
- a ``SELECT unnest(a), unnest(b)`` of literal lists becomes a ``VALUES`` table (Spark allows one
  generator per select, DuckDB zips them);
- ``date_diff('second', a, b)`` becomes ``unix_seconds(b) - unix_seconds(a)`` (DuckDB counts second
  boundaries; Spark's ``timestampdiff`` truncates the difference);
- ``isodow(x)`` becomes ``weekday(x) + 1`` (sqlglot's Spark rendering was off by one day);
- ``hash(…) % n`` becomes ``pmod(xxhash64(…), n)`` (DuckDB's hash is unsigned; the sample it draws
  is as large, but not the same rows: each engine hashes its own way);
- decimal literals (``3600.0``) become doubles, as DuckDB divides them (Spark would keep decimals);
- ``CREATE TEMP TABLE t AS q`` and ``DELETE FROM t WHERE c`` become the query that the engine
  materialises as the temp view ``t`` (``q``, and ``SELECT * FROM t WHERE NOT coalesce(c, false)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

from core.errors import ConfigError


@dataclass(frozen=True)
class Statement:
    """One Spark statement: a query, and the temp view it replaces (None: its rows are the result)."""

    sql: str
    view: str | None


def literal(value: Any) -> exp.Expr:
    """A typed SQL literal of a Python value (the only way parameters enter a statement)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.cast(exp.Literal.number(str(int(value))), exp.DataType.Type.BIGINT)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"a parameter is not a finite number: {value!r}")
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ConfigError("timestamps are naive UTC in the store; got one with a time zone")
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[literal(v) for v in value])
    raise ConfigError(f"cannot bind a parameter of type {type(value).__name__}")


def bind(tree: exp.Expr, params: Mapping[str, Any]) -> exp.Expr:
    """Replace every `$name` placeholder by the typed literal of its value."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            name = str(node.this)
            if name not in params:
                raise ConfigError(f"the SQL needs a value for ${name}")
            return literal(params[name])
        return node

    return tree.transform(swap)


def _is_decimal_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_number and any(c in node.this for c in ".eE")


def _zip_unnests(node: exp.Expr) -> exp.Expr:
    """`select unnest([..]) as a, unnest([..]) as b` (no FROM) -> `select * from values (..) as t(a, b)`."""
    if not isinstance(node, exp.Select) or node.args.get("from_") or node.args.get("from"):
        return node
    names, columns = [], []
    for projection in node.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else None
        explode = inner if isinstance(inner, exp.Unnest | exp.Explode) else None
        if explode is None:
            return node
        array = explode.expressions[0] if isinstance(explode, exp.Unnest) else explode.this
        if not isinstance(array, exp.Array):
            return node
        names.append(projection.alias)
        columns.append(array.expressions)
    if not columns or len({len(c) for c in columns}) != 1:
        return node
    rows = [exp.Tuple(expressions=list(row)) for row in zip(*columns, strict=True)]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier(n) for n in names]),
    )
    return exp.select("*").from_(values)


def _interval(hours: exp.Expr | None = None, minutes: exp.Expr | None = None) -> exp.Expr:
    zero = exp.Literal.number(0)
    as_int = [exp.cast(v, exp.DataType.Type.INT) if v is not None else zero for v in (hours, minutes)]
    return exp.func("make_dt_interval", zero, *as_int, zero)


def _micros_interval(micros: exp.Expr) -> exp.Expr:
    """An exact day-time interval of a number of microseconds (seconds with six decimals)."""
    seconds = exp.Div(
        this=exp.cast(micros, exp.DataType.build("DECIMAL(24, 6)")),
        expression=exp.cast(exp.Literal.number(1_000_000), exp.DataType.build("DECIMAL(7, 0)")),
    )
    zero = exp.Literal.number(0)
    return exp.func("make_dt_interval", zero, zero, zero, exp.cast(seconds, exp.DataType.build("DECIMAL(18, 6)")))


def _json_value(document: exp.Expr, key: exp.Expr) -> exp.Expr:
    """DuckDB's json_extract_string(doc, key) with a key that is a column: the value of that top-level key."""
    as_map = exp.func("from_json", document, exp.Literal.string("map<string,string>"))
    return exp.Bracket(this=as_map, expressions=[key])


def _portable(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Mod) and isinstance(node.this, exp.Anonymous) and str(node.this.this).lower() == "hash":
        # DuckDB's hash is unsigned, so `hash(…) % n` lies in [0, n); Spark's is signed: pmod keeps the range.
        return exp.func("pmod", exp.func("xxhash64", *node.this.expressions), node.expression)
    if isinstance(node, exp.Anonymous) and len(node.expressions) == 1:
        name = str(node.this).lower()
        if name == "to_hours":
            return _interval(hours=node.expressions[0])
        if name == "to_minutes":
            return _interval(minutes=node.expressions[0])
        if name == "to_microseconds":
            return _micros_interval(node.expressions[0])
    if isinstance(node, exp.JSONExtractScalar) and not isinstance(node.expression, exp.Literal):
        return _json_value(node.this, node.expression)
    if isinstance(node, exp.PercentileCont) or node.key == "quantilecont":
        return exp.func("percentile", *[v for v in (node.this, node.expression) if v is not None])
    if isinstance(node, exp.DateDiff) and node.unit and node.unit.name.upper() == "SECOND":
        end, start = node.this, node.expression
        return exp.Paren(this=exp.Sub(this=exp.func("unix_seconds", end), expression=exp.func("unix_seconds", start)))
    if isinstance(node, exp.DayOfWeekIso):
        return exp.Paren(this=exp.Add(this=exp.func("weekday", node.this), expression=exp.Literal.number(1)))
    if _is_decimal_literal(node) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
    return _zip_unnests(node)


def to_spark(sql: str, params: Mapping[str, Any] | None = None) -> list[Statement]:
    """The Spark statements of one DuckDB SQL text with its parameters bound."""
    from core.engine.asof import rewrite_asof_joins

    statements = []
    for tree in sqlglot.parse(sql, read="duckdb"):
        if tree is None:
            continue
        tree = bind(tree, params or {})
        view, query = _target(tree)
        query = rewrite_asof_joins(query.transform(_portable))
        for name, body in _shared_ctes(query):
            statements.append(Statement(sql=body.sql(dialect="spark"), view=name))
        statements.append(Statement(sql=query.sql(dialect="spark"), view=view))
    return statements


def _table_refs(tree: exp.Expr, name: str) -> list[exp.Table]:
    return [t for t in tree.find_all(exp.Table) if not t.args.get("db") and t.name == name]


def _shared_ctes(query: exp.Expr) -> list[tuple[str, exp.Expr]]:
    """Take the top-level CTEs read more than once out of `query` (in place) as views to materialise:
    Spark inlines a CTE at every reference, so one read nine times would be computed nine times."""
    with_ = query.args.get("with_") or query.args.get("with")
    if not isinstance(with_, exp.With):
        return []
    taken: list[tuple[str, exp.Expr]] = []
    ctes = list(with_.expressions)
    for position, cte in enumerate(ctes):
        name = cte.alias
        later = [c.this for c in ctes[position + 1 :] if c in with_.expressions]
        readers = sum(len(_table_refs(t, name)) for t in later)
        body_of_query = query.copy()
        body_of_query.set("with_", None)
        body_of_query.set("with", None)
        readers += len(_table_refs(body_of_query, name))
        if readers < 2:
            continue
        view = f"__cte_{name}"
        earlier = [c.copy() for c in with_.expressions if c is not cte and ctes.index(c) < position]
        body = cte.this.copy()
        if earlier:
            body.set("with_", exp.With(expressions=earlier))
        taken.append((view, body))
        with_.set("expressions", [c for c in with_.expressions if c is not cte])
        for table in _table_refs(query, name):
            table.set("this", exp.to_identifier(view))
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
    if not with_.expressions:
        query.set("with_", None)
    return taken


def _target(tree: exp.Expr) -> tuple[str | None, exp.Expr]:
    """(temp view to replace or None, the query) of one statement."""
    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query):
        return tree.this.name, tree.expression
    if isinstance(tree, exp.Delete):
        table = tree.this
        condition = tree.args["where"].this
        keep = exp.not_(exp.func("coalesce", exp.Paren(this=condition), exp.false()))
        return table.name, exp.select("*").from_(table.copy()).where(keep)
    if isinstance(tree, exp.Query):
        return None, tree
    raise ConfigError(f"the Spark engine runs queries, temp tables and deletes, not {tree.key}")
