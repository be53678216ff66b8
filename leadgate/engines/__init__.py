"""Engines run compiled SQL: SQLite (embedded default), DuckDB (fast batch), PostgreSQL, Spark."""

from __future__ import annotations

from typing import Any

from leadgate.engines.base import Engine, Tables, prepare_tables
from leadgate.errors import EngineError

ENGINES = ("sqlite", "duckdb", "postgres", "spark")


def get_engine(name: str, **options: Any) -> Engine:
    """An engine by name; options go to its constructor (``database``, ``url``, ``master``)."""
    if name == "sqlite":
        from leadgate.engines.sqlite import SQLiteEngine

        return SQLiteEngine(**options)
    if name == "duckdb":
        from leadgate.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "postgres":
        from leadgate.engines.postgres import PostgresEngine

        return PostgresEngine(**options)
    if name == "spark":
        from leadgate.engines.spark import SparkEngine

        return SparkEngine(**options)
    raise EngineError(f"unknown engine '{name}'; expected one of: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "Tables", "get_engine", "prepare_tables"]
