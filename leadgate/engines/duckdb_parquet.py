"""DuckDB reading Parquet files in place: the batch fast path.

The general path reads every file into Arrow, converting and validating row by row.  When every input is
Parquet whose columns already have the types the definition reads, DuckDB can scan the files itself
(projection and filter pushdown, both cores) through views that present the normalized tables of
docs/semantics.md.  The same guarantees are kept by checking in SQL first: required values present, ids
unique.  If a file does not qualify, or any check finds a bad row, the caller falls back to the Arrow path,
which reports each rejected row with file, row and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadgate.engines.base import quote_ident
from leadgate.inputs.readers import ALIASES, OPTIONAL_STRINGS, TIMESTAMPS

SQL_TYPES = {"number": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN"}
#: The lower-cased part after the '@' of an address with exactly one '@' (as inputs.readers.email_domain).
EMAIL_DOMAIN = "CASE WHEN regexp_full_match({email}, '[^@]*@[^@]+') THEN lower(split_part({email}, '@', 2)) END"


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


def view_sql(kind: str, path: Path, field_types: Mapping[tuple[str, str], str | None]) -> str | None:
    """``SELECT ... FROM read_parquet(path)`` presenting the normalized ``kind`` table, or None when the
    file's types need the converting reader."""
    schema = pq.read_schema(path)
    types = {f.name: f.type for f in schema}
    select: list[str] = []
    for canonical, aliases in ALIASES[kind].items():
        source = next((a for a in aliases if a in types), None)
        want = "timestamp" if canonical in TIMESTAMPS[kind] else "string"
        if source is None or not _compatible(types[source], want):
            return None
        select.append(f"{quote_ident(source)} AS {quote_ident(canonical)}")
    for name in OPTIONAL_STRINGS[kind]:
        if name in ALIASES[kind]:
            continue
        if name in types and not _compatible(types[name], "string"):
            return None
        select.append(
            f"{quote_ident(name)} AS {quote_ident(name)}"
            if name in types
            else f"CAST(NULL AS VARCHAR) AS {quote_ident(name)}"
        )
    for name in TIMESTAMPS[kind]:
        if name in ALIASES[kind]:
            continue
        if name in types and not _compatible(types[name], "timestamp"):
            return None
        select.append(f"{quote_ident(name)}" if name in types else f"CAST(NULL AS TIMESTAMP) AS {quote_ident(name)}")
    if kind == "leads":
        email = quote_ident("email") if "email" in types else "CAST(NULL AS VARCHAR)"
        select.append(f"{EMAIL_DOMAIN.format(email=email)} AS {quote_ident('email_domain')}")
    done = {"email_domain", *ALIASES[kind], *OPTIONAL_STRINGS[kind], *TIMESTAMPS[kind]}
    for (table, column), kind_of in sorted(field_types.items(), key=lambda kv: kv[0]):
        if table != kind or column in done:
            continue
        sql_type = SQL_TYPES.get(kind_of or "", "VARCHAR")
        if column not in types:
            select.append(f"CAST(NULL AS {sql_type}) AS {quote_ident(column)}")
        elif _compatible(types[column], kind_of):
            select.append(f"CAST({quote_ident(column)} AS {sql_type}) AS {quote_ident(column)}")
        else:
            return None
    return f"SELECT {', '.join(select)} FROM read_parquet({_literal(str(path))})"


def checks_sql(kind: str) -> str:
    """One row: how many rows lack a required value, and how many ids repeat."""
    required = " OR ".join(f"{quote_ident(c)} IS NULL" for c in ALIASES[kind])
    key = quote_ident(next(iter(ALIASES[kind])))
    repeats = f"COUNT({key}) - COUNT(DISTINCT {key})" if kind != "events" else "0"
    return f"SELECT COUNT(*) FILTER (WHERE {required}) AS missing, {repeats} AS repeats FROM {quote_ident(kind)}"
