"""SQLite: the embedded default.  Timestamps are stored as REAL epoch seconds; regex search is a
registered function using Python's ``re`` in ASCII mode (see docs/semantics.md)."""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadgate.compiler.dialects import SQLITE_REGEXP, SQLITE_REGEXP_I
from leadgate.engines.base import Engine, quote_ident


@lru_cache(maxsize=256)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0))


def _regexp(pattern: str, value: Any) -> int | None:
    if value is None:
        return None
    return 1 if _pattern(pattern, False).search(str(value)) else 0


def _regexp_i(pattern: str, value: Any) -> int | None:
    if value is None:
        return None
    return 1 if _pattern(pattern, True).search(str(value)) else 0


def register_functions(con: sqlite3.Connection) -> None:
    """Functions compiled SQLite queries call; any connection running them needs these."""
    con.create_function(SQLITE_REGEXP, 2, _regexp, deterministic=True)
    con.create_function(SQLITE_REGEXP_I, 2, _regexp_i, deterministic=True)
    try:
        con.execute("SELECT POWER(0.5, 2)")
    except sqlite3.OperationalError:  # SQLite built without math functions
        con.create_function("POWER", 2, lambda a, b: None if a is None or b is None else a**b, deterministic=True)


def _sql_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return "INTEGER"
    if pa.types.is_floating(t) or pa.types.is_timestamp(t):
        return "REAL"
    return "TEXT"


def _column(column: pa.ChunkedArray) -> list[Any]:
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(column, pa.int64())
        return [None if v is None else v / 1_000_000 for v in micros.to_pylist()]
    if pa.types.is_boolean(column.type):
        return [None if v is None else int(v) for v in column.to_pylist()]
    return column.to_pylist()


class SQLiteEngine(Engine):
    dialect = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, database: str = ":memory:"):
        self.con = sqlite3.connect(database)
        register_functions(self.con)

    def load_table(self, name: str, table: pa.Table) -> None:
        q = quote_ident(name)
        self.con.execute(f"DROP TABLE IF EXISTS {q}")
        cols = ", ".join(f"{quote_ident(f.name)} {_sql_type(f.type)}" for f in table.schema)
        self.con.execute(f"CREATE TABLE {q} ({cols})")
        if table.num_rows:
            values = list(zip(*(_column(table.column(i)) for i in range(table.num_columns)), strict=True))
            marks = ", ".join("?" for _ in table.schema)
            self.con.executemany(f"INSERT INTO {q} VALUES ({marks})", values)
        self.con.commit()

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()
