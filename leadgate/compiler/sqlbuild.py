"""Small builders over sqlglot expressions.

Every value reaches SQL as a sqlglot literal and every name as a quoted identifier, so nothing from a
definition or from data is ever spliced into SQL text.  Binary operators are parenthesized explicitly
(sqlglot's node constructors do not add parentheses for precedence).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sqlglot import exp

DIALECTS = ("sqlite", "duckdb", "postgres", "spark", "snowflake", "bigquery")
#: Dialects whose results the test suite checks against the reference evaluator.
ENGINE_DIALECTS = ("sqlite", "duckdb", "postgres", "spark")


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def num(value: float | int) -> exp.Expression:
    """A number.  Integers stay integer literals; other numbers are written exactly and cast to DOUBLE,
    so no engine reads them as DECIMAL (Spark would, and drift)."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number; SQL has no literal for it")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 2**53):
        return exp.Literal.number(int(value))
    return exp.Cast(this=exp.Literal.number(repr(float(value))), to=exp.DataType.build("double"))


def double(expr: exp.Expression) -> exp.Expression:
    return exp.Cast(this=expr, to=exp.DataType.build("double"))


def literal(value: object) -> exp.Expression:
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float)):
        return num(value)
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"cannot write {value!r} as a SQL literal")


def paren(e: exp.Expression) -> exp.Expression:
    if isinstance(e, (exp.Binary, exp.Not, exp.Is, exp.In, exp.Case)):  # And/Or are also Funcs in sqlglot
        return exp.Paren(this=e)
    if isinstance(e, (exp.Column, exp.Literal, exp.Paren, exp.Cast, exp.Func, exp.Boolean, exp.Null)):
        return e
    return exp.Paren(this=e)


def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Add(this=paren(a), expression=paren(b))


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Sub(this=paren(a), expression=paren(b))


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Mul(this=paren(a), expression=paren(b))


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Div(this=paren(a), expression=paren(b))


def total(parts: Sequence[exp.Expression]) -> exp.Expression:
    """Left-to-right sum (the reference evaluator adds in the same order)."""
    if not parts:
        return exp.Literal.number(0)
    acc = parts[0]
    for p in parts[1:]:
        acc = add(acc, p)
    return acc


def and_(parts: Iterable[exp.Expression]) -> exp.Expression:
    items = [paren(p) for p in parts]
    if not items:
        return exp.true()
    return exp.and_(*items, wrap=False) if len(items) > 1 else items[0]


def or_(parts: Iterable[exp.Expression]) -> exp.Expression:
    items = [paren(p) for p in parts]
    if not items:
        return exp.false()
    return exp.or_(*items, wrap=False) if len(items) > 1 else items[0]


def not_(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=paren(e))


def case(whens: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None) -> exp.Case:
    c = exp.Case()
    for cond, value in whens:
        c = c.when(cond, value)
    if default is not None:
        c = c.else_(default)
    return c


def flag(cond: exp.Expression) -> exp.Expression:
    """A condition as 1/0 (booleans differ by engine; integers do not)."""
    return case([(cond, exp.Literal.number(1))], exp.Literal.number(0))


def truthy(e: exp.Expression) -> exp.Expression:
    """A 1/0 column as a condition."""
    return exp.EQ(this=e, expression=exp.Literal.number(1))


def definite(cond: exp.Expression) -> exp.Expression:
    """Two-valued logic: a predicate on NULL is false, never NULL."""
    return exp.Coalesce(this=cond, expressions=[exp.false()])


def clamp(x: exp.Expression, cap: float) -> exp.Expression:
    """x bounded to [-cap, cap]."""
    return case(
        [
            (exp.GT(this=x.copy(), expression=num(cap)), num(cap)),
            (exp.LT(this=x.copy(), expression=num(-cap)), num(-cap)),
        ],
        x.copy(),
    )


def select_from(source: str, columns: list[exp.Expression], *, star: bool = True) -> exp.Select:
    """SELECT [*,] columns FROM source (a CTE name)."""
    projections: list[exp.Expression] = [exp.Star()] if star else []
    return exp.select(*projections, *columns).from_(exp.Table(this=ident(source)))
