"""DuckDB: the fast batch engine.  Arrow tables are registered, not copied."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from leadgate.engines.base import Engine, Tables


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, database: str = ":memory:", threads: int | None = None):
        self.con = duckdb.connect(database)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._tables: Tables | None = None

    def load(self, tables: Tables) -> None:
        self._tables = tables  # keep the Arrow buffers alive while registered
        for name, table in tables.items():
            self.con.register(name, table)

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        result = self.con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()
