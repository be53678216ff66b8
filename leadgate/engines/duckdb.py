"""DuckDB: the fast batch engine.  Arrow tables are registered, not copied; Parquet inputs are scanned in
place when they allow it (see parquet_views.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from leadgate.definition.model import Definition
from leadgate.engines.base import Engine, Tables
from leadgate.engines.parquet_views import load_views


class DuckDBEngine(Engine):
    dialect = "duckdb"
    errors = (duckdb.Error,)

    def __init__(self, database: str = ":memory:", threads: int | None = None):
        self.con = duckdb.connect(database)
        self.con.execute("SET enable_progress_bar = false")  # a library prints nothing of its own
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._tables: Tables | None = None
        self._extra: dict[str, pa.Table] = {}

    def load(self, tables: Tables) -> None:
        self._tables = tables  # keep the Arrow buffers alive while registered
        super().load(tables)

    def load_table(self, name: str, table: pa.Table) -> None:
        self._extra[name] = table  # registered, not copied: keep the buffers alive
        self.con.register(name, table)

    def load_files(
        self,
        defn: Definition,
        leads: Path,
        events: Path | None,
        accounts: Path | None,
        predictions: Path | None = None,
    ) -> bool:
        """Scan Parquet inputs in place; False (nothing loaded) when the converting reader is needed."""
        files = {"leads": leads, "events": events, "accounts": accounts}
        if defn.models():
            files["predictions"] = predictions
        return load_views(lambda sql: self.con.execute(sql).fetchall(), "duckdb", files, defn.field_types())

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        result = self.con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()
