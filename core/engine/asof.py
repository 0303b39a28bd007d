"""DuckDB's ``ASOF JOIN`` in standard SQL that Spark runs, as a rewrite of the syntax tree.

``FROM a ASOF [LEFT] JOIN b ON a.k = b.k AND a.x > b.y`` (or ``>=``) matches each row of ``a`` with the
row of ``b`` of the same keys and the largest ``y`` before ``x``. Spark has no such join; a range join
with a ranking grows with the square of the history, so the match is found the scalable way: the
instants of both sides in one union, sorted per key, and the last ``y`` seen so far at each ``a``
instant (``last_value(... ignore nulls)``); ``b`` is then joined on equality. For ``>`` the ``b``
instants sort after equal ``a`` instants (not seen yet), for ``>=`` before. ``b`` must be unique on
(keys, y), as it is for every as-of join in core/sql (a series per key and instant).
"""

from __future__ import annotations

from sqlglot import exp

from core.errors import ConfigError

_MATCH = "__asof_match"
_MIRROR: dict[type[exp.Expr], type[exp.Expr]] = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}


def _alias(source: exp.Expr) -> str:
    name = source.alias_or_name
    if not name:
        raise ConfigError("an as-of join needs named sides")
    return name


def _split(condition: exp.Expr, left: str, right: str) -> tuple[list[tuple[str, str]], tuple[str, str, bool]]:
    """(equal keys as (left column, right column), (left instant, right instant, strict))."""
    keys: list[tuple[str, str]] = []
    instant: tuple[str, str, bool] | None = None
    for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
        a, b = part.args.get("this"), part.args.get("expression")
        if not isinstance(a, exp.Column) or not isinstance(b, exp.Column):
            raise ConfigError(f"unsupported as-of join condition: {part.sql()}")
        if a.table == right and b.table == left:
            a, b = b, a
            mirrored: type[exp.Expr] = _MIRROR.get(type(part), type(part))
            part = mirrored(this=a, expression=b)
        if a.table != left or b.table != right:
            raise ConfigError(f"unsupported as-of join condition: {part.sql()}")
        if isinstance(part, exp.EQ):
            keys.append((a.name, b.name))
        elif isinstance(part, exp.GT | exp.GTE) and instant is None:
            instant = (a.name, b.name, isinstance(part, exp.GT))
        else:
            raise ConfigError(f"unsupported as-of join condition: {part.sql()}")
    if instant is None:
        raise ConfigError("an as-of join needs one inequality (left instant > or >= right instant)")
    return keys, instant


def _match_query(
    left: exp.Expr, right: exp.Expr, keys: list[tuple[str, str]], instant: tuple[str, str, bool]
) -> exp.Select:
    """Per distinct (keys, left instant): the right instant it matches (`__asof_y`, null if none)."""
    la, ra = _alias(left), _alias(right)
    x, y, strict = instant
    left_side, right_side = (0, 1) if strict else (1, 0)
    key_names = [f"__k{i}" for i in range(len(keys))]
    from_left = (
        exp.select(
            *[exp.column(lk, la).as_(n) for (lk, _), n in zip(keys, key_names, strict=True)],
            exp.column(x, la).as_("__t"),
            exp.Literal.number(left_side).as_("__side"),
            exp.Null().as_("__y"),
        )
        .from_(left.copy())
        .distinct()
    )
    from_right = exp.select(
        *[exp.column(rk, ra).as_(n) for (_, rk), n in zip(keys, key_names, strict=True)],
        exp.column(y, ra).as_("__t"),
        exp.Literal.number(right_side).as_("__side"),
        exp.column(y, ra).as_("__y"),
    ).from_(right.copy())
    window = exp.Window(
        this=exp.IgnoreNulls(this=exp.LastValue(this=exp.column("__y"))),
        partition_by=[exp.column(n) for n in key_names],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("__t")), exp.Ordered(this=exp.column("__side"))]),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )
    running = exp.select(*key_names, "__t", "__side", window.as_("__asof_y")).from_(
        exp.union(from_left, from_right, distinct=False).subquery("__asof_union")
    )
    return (
        exp.select(*key_names, "__t", "__asof_y")
        .from_(running.subquery("__asof_running"))
        .where(exp.column("__side").eq(left_side))
    )


def _rewrite_select(select: exp.Select) -> exp.Select:
    joins = list(select.args.get("joins") or [])
    for position, join in enumerate(joins):
        if str(join.args.get("method") or "").upper() != "ASOF":
            continue
        if position != 0:
            raise ConfigError("an as-of join must be the first join of its select")
        left = select.args["from_"].this
        right = join.this
        la, ra = _alias(left), _alias(right)
        keys, instant = _split(join.args["on"], la, ra)
        side = str(join.args.get("side") or "").upper() or None
        x, y, _ = instant
        on_match = exp.and_(
            *[exp.column(lk, la).eq(exp.column(f"__k{i}", _MATCH)) for i, (lk, _) in enumerate(keys)],
            exp.column(x, la).eq(exp.column("__t", _MATCH)),
        )
        on_right = exp.and_(
            *[exp.column(rk, ra).eq(exp.column(lk, la)) for lk, rk in keys],
            exp.column(y, ra).eq(exp.column("__asof_y", _MATCH)),
        )
        kind = {"side": side} if side else {"kind": "INNER"}
        new_joins = [
            exp.Join(this=_match_query(left, right, keys, instant).subquery(_MATCH), on=on_match, **kind),
            exp.Join(this=right.copy(), on=on_right, **kind),
        ]
        select.set("joins", new_joins + joins[1:])
    return select


def rewrite_asof_joins(tree: exp.Expr) -> exp.Expr:
    """The tree with every ASOF join replaced by its standard-SQL equivalent."""
    return tree.transform(lambda node: _rewrite_select(node) if isinstance(node, exp.Select) else node)
