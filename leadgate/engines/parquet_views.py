"""Engines reading Parquet files in place (DuckDB, Spark): the batch fast path.

The general path reads every file into Arrow, converting and validating row by row.  When every input is
Parquet whose columns already have the types the definition reads, the engine can scan the files itself
(projection and filter pushdown, all cores, on Spark in the executors) through views that present the
normalized tables of docs/semantics.md.  The same guarantees are kept by checking in SQL first: required
values present, ids unique, numbers finite.  If a file does not qualify, or any check finds a bad row, the caller falls
back to the Arrow path, which reports each rejected row with file, row and field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadgate.engines.base import quote_ident
from leadgate.inputs.normalize import ALIASES, BOUNDED, OPTIONAL_STRINGS, TIMESTAMPS

SQL_TYPES = {"number": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN"}
#: The lower-cased part after the '@' of an address with exactly one '@' (as inputs.readers.email_domain).
EMAIL_DOMAIN = {
    "duckdb": "CASE WHEN regexp_full_match({email}, '[^@]*@[^@]+') THEN lower(split_part({email}, '@', 2)) END",
    # Java's $ would also match before a final line break; \z is the end of the text, as in RE2.
    "spark": "CASE WHEN {email} RLIKE '^[^@]*@[^@]+\\\\z' THEN lower(split_part({email}, '@', 2)) END",
}
SPARK_TYPES = {"DOUBLE": "DOUBLE", "VARCHAR": "STRING", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP"}


def _compatible(t: pa.DataType, kind: str | None) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if kind == "number":
        return pa.types.is_integer(t) or pa.types.is_floating(t)
    if kind == "boolean":
        return pa.types.is_boolean(t)
    if kind == "timestamp":
        return pa.types.is_timestamp(t) and t.tz is None
    if kind == "string":
        return pa.types.is_string(t) or pa.types.is_large_string(t)
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Sql:
    """The handful of spellings that differ between the two engines' SQL."""

    def __init__(self, dialect: str):
        self.dialect = dialect
        self.quote = "`" if dialect == "spark" else '"'

    def ident(self, name: str) -> str:
        return quote_ident(name, self.quote)

    def type(self, name: str) -> str:
        return SPARK_TYPES[name] if self.dialect == "spark" else name

    def null(self, sql_type: str) -> str:
        return f"CAST(NULL AS {self.type(sql_type)})"

    def not_finite(self, column: str) -> str:
        """True for an infinite or NaN number (NULL for NULL)."""
        if self.dialect == "spark":
            return f"(isnan({column}) OR abs({column}) = double('Infinity'))"
        return f"NOT isfinite({column})"

    def source(self, path: Path) -> str:
        if self.dialect == "spark":
            return f"parquet.{quote_ident(str(path.resolve()), '`')}"
        return f"read_parquet({_literal(str(path))})"


def view_sql(
    kind: str, path: Path, field_types: Mapping[tuple[str, str], str | None], dialect: str = "duckdb"
) -> str | None:
    """``SELECT ... FROM <parquet file>`` presenting the normalized ``kind`` table, or None when the
    file's types need the converting reader."""
    q = _Sql(dialect)
    schema = pq.read_schema(path)
    if len(set(schema.names)) != len(schema.names):  # the reader names the repeated column
        return None
    types = {f.name: f.type for f in schema}
    select: list[str] = []
    for canonical, aliases in ALIASES[kind].items():
        source = next((a for a in aliases if a in types), None)
        bounded = canonical in BOUNDED.get(kind, {})
        want = "timestamp" if canonical in TIMESTAMPS[kind] else "number" if bounded else "string"
        if source is None or not _compatible(types[source], want):
            return None
        value = f"CAST({q.ident(source)} AS {q.type('DOUBLE')})" if bounded else q.ident(source)
        select.append(f"{value} AS {q.ident(canonical)}")
    for name in OPTIONAL_STRINGS[kind]:
        if name in ALIASES[kind]:
            continue
        if name in types and not _compatible(types[name], "string"):
            return None
        select.append(
            f"{q.ident(name)} AS {q.ident(name)}" if name in types else f"{q.null('VARCHAR')} AS {q.ident(name)}"
        )
    for name in TIMESTAMPS[kind]:
        if name in ALIASES[kind]:
            continue
        if name in types and not _compatible(types[name], "timestamp"):
            return None
        select.append(f"{q.ident(name)}" if name in types else f"{q.null('TIMESTAMP')} AS {q.ident(name)}")
    if kind == "leads":
        email = q.ident("email") if "email" in types else q.null("VARCHAR")
        select.append(f"{EMAIL_DOMAIN[dialect].format(email=email)} AS {q.ident('email_domain')}")
    done = {"email_domain", *ALIASES[kind], *OPTIONAL_STRINGS[kind], *TIMESTAMPS[kind]}
    for (table, column), kind_of in sorted(field_types.items(), key=lambda kv: kv[0]):
        if table != kind or column in done:
            continue
        sql_type = q.type(SQL_TYPES.get(kind_of or "", "VARCHAR"))
        if column not in types:
            select.append(f"CAST(NULL AS {sql_type}) AS {q.ident(column)}")
        elif _compatible(types[column], kind_of):
            select.append(f"CAST({q.ident(column)} AS {sql_type}) AS {q.ident(column)}")
        else:
            return None
    return f"SELECT {', '.join(select)} FROM {q.source(path)}"


def checks_sql(kind: str, dialect: str = "duckdb", numbers: Sequence[str] = ()) -> str:
    """One row: how many rows lack a required value (or have a number out of bounds, or an infinite or NaN
    number in one of the ``numbers`` columns), and how many ids repeat."""
    q = _Sql(dialect)
    required = " OR ".join(f"{q.ident(c)} IS NULL" for c in ALIASES[kind])
    for column, (low, high) in BOUNDED.get(kind, {}).items():
        required += f" OR NOT ({q.ident(column)} >= {low!r} AND {q.ident(column)} <= {high!r})"
    for column in dict.fromkeys([*BOUNDED.get(kind, {}), *numbers]):
        # said outright: DuckDB folds a range test away when the file's statistics (which skip NaN) fit it
        required += f" OR {q.not_finite(q.ident(column))}"
    key = q.ident(next(iter(ALIASES[kind])))
    repeats = f"COUNT({key}) - COUNT(DISTINCT {key})" if kind in ("leads", "accounts") else "0"
    missing = f"SUM(CASE WHEN {required} THEN 1 ELSE 0 END)"
    return f"SELECT COALESCE({missing}, 0) AS missing, {repeats} AS repeats FROM {q.ident(kind)}"


def empty_view_sql(kind: str, field_types: Mapping[tuple[str, str], str | None], dialect: str = "duckdb") -> str:
    """A view of no rows with the columns a missing (optional) accounts or predictions file would have had."""
    q = _Sql(dialect)
    if kind == "predictions":
        types = {"lead_id": "VARCHAR", "model": "VARCHAR", "probability": "DOUBLE", "scored_at": "TIMESTAMP"}
        nulls = ", ".join(f"{q.null(t)} AS {q.ident(c)}" for c, t in types.items())
        return f"SELECT * FROM (SELECT {nulls}) AS empty WHERE 1 = 0"
    columns = [f"{q.null('VARCHAR')} AS {q.ident('account_id')}"] + [
        f"{q.null(SQL_TYPES.get(k or '', 'VARCHAR'))} AS {q.ident(c)}"
        for (t, c), k in sorted(field_types.items(), key=lambda kv: kv[0])
        if t == kind and c != "account_id"
    ]
    return f"SELECT * FROM (SELECT {', '.join(columns)}) AS empty WHERE 1 = 0"


def load_views(
    execute: Callable[[str], list[tuple[int, int]]],
    dialect: str,
    files: Mapping[str, Path | None],
    field_types: Mapping[tuple[str, str], str | None],
) -> bool:
    """Create the leads / events / accounts views over Parquet files and check them; False (views dropped)
    when a file needs the converting reader or a check finds a bad row."""
    q = _Sql(dialect)
    if files.get("leads") is None or files.get("events") is None:
        return False
    if any(p is not None and not p.name.lower().endswith(".parquet") for p in files.values()):
        return False
    views: dict[str, str] = {}
    for kind, path in files.items():
        sql = empty_view_sql(kind, field_types, dialect) if path is None else view_sql(kind, path, field_types, dialect)
        if sql is None:
            return False
        views[kind] = sql
    for kind, sql in views.items():
        execute(f"CREATE OR REPLACE TEMPORARY VIEW {q.ident(kind)} AS {sql}")
    for kind, path in files.items():
        if path is not None:
            numbers = [c for (t, c), k in field_types.items() if t == kind and k == "number"]
            [(missing, repeats)] = execute(checks_sql(kind, dialect, numbers))
            if missing or repeats:
                for name in views:
                    execute(f"DROP VIEW IF EXISTS {q.ident(name)}")
                return False
    return True
