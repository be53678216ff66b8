"""DuckDB: the fast batch engine.  Arrow tables are registered, not copied; Parquet inputs are scanned in
place when they allow it (see duckdb_parquet.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from leadgate.definition.model import Definition
from leadgate.engines.base import Engine, Tables, quote_ident
from leadgate.engines.duckdb_parquet import SQL_TYPES, checks_sql, view_sql


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

    def load_files(self, defn: Definition, leads: Path, events: Path | None, accounts: Path | None) -> bool:
        """Scan Parquet inputs in place; False (nothing loaded) when the converting reader is needed."""
        files = {"leads": leads, "events": events, "accounts": accounts}
        if (
            leads is None
            or events is None
            or any(p and not p.name.lower().endswith(".parquet") for p in files.values())
        ):
            return False
        types = defn.field_types()
        views: dict[str, str] = {}
        for kind, path in files.items():
            if path is None:
                columns = ["CAST(NULL AS VARCHAR) AS account_id"] + [
                    f"CAST(NULL AS {SQL_TYPES.get(k or '', 'VARCHAR')}) AS {quote_ident(c)}"
                    for (t, c), k in types.items()
                    if t == kind and c != "account_id"
                ]
                views[kind] = f"SELECT {', '.join(columns)} WHERE FALSE"
                continue
            sql = view_sql(kind, path, types)
            if sql is None:
                return False
            views[kind] = sql
        for kind, sql in views.items():
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(kind)} AS {sql}")
        for kind, path in files.items():
            if path is not None:
                [(missing, repeats)] = self.con.execute(checks_sql(kind)).fetchall()
                if missing or repeats:
                    for name in views:
                        self.con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
                    return False
        return True

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        result = self.con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()
