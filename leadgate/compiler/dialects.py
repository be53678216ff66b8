"""The few places where one semantics needs different SQL per dialect.

sqlglot transpiles most of the query; these overrides cover what it gets wrong or cannot express for our
contract (see docs/semantics.md): epoch seconds from a timestamp, prefix/suffix tests, regex search with
and without case folding.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlglot import exp

from leadgate.compiler.sqlbuild import DIALECTS, div, double, num, string
from leadgate.errors import LeadgateError

#: SQLite has no timestamp type: leadgate's SQLite engine stores timestamps as REAL epoch seconds, and
#: these user functions (registered by the engine) provide regex search.
SQLITE_REGEXP = "leadgate_regexp"
SQLITE_REGEXP_I = "leadgate_regexp_i"


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise LeadgateError(f"unknown dialect '{dialect}'; expected one of: {', '.join(DIALECTS)}")
    return dialect


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def epoch_seconds(ts: exp.Expression, dialect: str) -> exp.Expression:
    """Epoch seconds of a UTC timestamp as a double: microseconds / 1e6, correctly rounded everywhere."""
    million = double(exp.Literal.number(1_000_000))
    if dialect == "sqlite":
        return double(ts)
    if dialect == "duckdb":
        return div(double(_fn("EPOCH_US", ts)), million)
    if dialect == "postgres":
        return double(exp.Extract(this=exp.var("EPOCH"), expression=ts))
    if dialect in ("spark", "bigquery"):
        return div(double(_fn("UNIX_MICROS", ts)), million)
    if dialect == "snowflake":
        return div(double(_fn("DATE_PART", exp.var("EPOCH_MICROSECOND"), ts)), million)
    raise AssertionError(dialect)


def timestamp_literal(micros: int, dialect: str) -> exp.Expression:
    """An instant (epoch microseconds, UTC) as a literal comparable with the dialect's timestamp column.

    SQLite stores timestamps as REAL epoch seconds, so there the literal is that number."""
    if dialect == "sqlite":
        return num(micros / 1_000_000)
    seconds, frac = divmod(micros, 1_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S") + f".{frac:06d}"
    return exp.Cast(this=string(text), to=exp.DataType.build("timestamp"))


def starts_with(x: exp.Expression, prefix: str, dialect: str) -> exp.Expression:
    if dialect in ("sqlite", "postgres"):
        return exp.EQ(this=exp.Substring(this=x, start=num(1), length=num(len(prefix))), expression=string(prefix))
    return exp.StartsWith(this=x, expression=string(prefix))


def ends_with(x: exp.Expression, suffix: str, dialect: str) -> exp.Expression:
    if not suffix:
        return exp.Not(this=exp.Paren(this=exp.Is(this=x, expression=exp.Null())))
    if dialect == "sqlite":
        return exp.EQ(this=_fn("SUBSTR", x, num(-len(suffix))), expression=string(suffix))
    if dialect == "postgres":
        return exp.EQ(this=_fn("RIGHT", x, num(len(suffix))), expression=string(suffix))
    return exp.EndsWith(this=x, expression=string(suffix))


def contains(x: exp.Expression, needle: str, dialect: str) -> exp.Expression:
    return exp.GT(this=exp.StrPosition(this=x, substr=string(needle)), expression=num(0))


def regex_search(x: exp.Expression, pattern: str, ignore_case: bool, dialect: str) -> exp.Expression:
    """Unanchored regex search (the portable subset, see leadgate/definition/regex.py)."""
    p = string(pattern)
    if dialect == "sqlite":
        return _fn(SQLITE_REGEXP_I if ignore_case else SQLITE_REGEXP, p, x)
    if dialect == "duckdb":
        args = [x, p, string("i")] if ignore_case else [x, p]
        return _fn("REGEXP_MATCHES", *args)
    if dialect == "postgres":
        return exp.RegexpILike(this=x, expression=p) if ignore_case else exp.RegexpLike(this=x, expression=p)
    if dialect == "spark":
        return exp.RegexpLike(this=x, expression=string("(?i)" + pattern) if ignore_case else p)
    if dialect == "snowflake":
        args = [x, p, num(1), num(1), num(0), string("i" if ignore_case else "c")]
        return exp.GT(this=_fn("REGEXP_INSTR", *args), expression=num(0))
    if dialect == "bigquery":
        return _fn("REGEXP_CONTAINS", x, string("(?i)" + pattern) if ignore_case else p)
    raise AssertionError(dialect)
