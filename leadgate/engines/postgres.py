"""PostgreSQL: tables are loaded with COPY into a private schema that is dropped on close."""

from __future__ import annotations

import os
import secrets
from typing import Any

import pyarrow as pa

from leadgate.engines.base import Engine, quote_ident
from leadgate.errors import EngineError

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _sql_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    return "TEXT"


class PostgresEngine(Engine):
    dialect = "postgres"

    def __init__(self, url: str | None = None):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - the postgres extra is not installed
            raise EngineError("the PostgreSQL engine needs psycopg: pip install 'leadgate[postgres]'") from exc
        self.errors = (psycopg.Error,)
        self.url = url or os.environ.get("LEADGATE_DATABASE_URL") or DEFAULT_URL
        try:
            self.con = psycopg.connect(self.url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise EngineError(f"cannot connect to PostgreSQL at {self.url}: {exc}") from exc
        self.schema = f"leadgate_{secrets.token_hex(6)}"
        self.con.execute(f"CREATE SCHEMA {quote_ident(self.schema)}")
        self.con.execute(f"SET search_path TO {quote_ident(self.schema)}")

    def load_table(self, name: str, table: pa.Table) -> None:
        q = quote_ident(name)
        self.con.execute(f"DROP TABLE IF EXISTS {q}")
        cols = ", ".join(f"{quote_ident(f.name)} {_sql_type(f.type)}" for f in table.schema)
        self.con.execute(f"CREATE TABLE {q} ({cols})")
        names = ", ".join(quote_ident(f.name) for f in table.schema)
        with self.con.cursor() as cur, cur.copy(f"COPY {q} ({names}) FROM STDIN") as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                columns = [c.to_pylist() for c in batch.columns]
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
        self.con.execute(f"ANALYZE {q}")

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        with self.con.cursor() as cur:
            cur.execute(sql.encode())
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        if not self.con.closed:
            self.con.execute(f"DROP SCHEMA IF EXISTS {quote_ident(self.schema)} CASCADE")
            self.con.close()
