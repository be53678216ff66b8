"""Spark SQL (pyspark, local or a cluster): tables become temporary views of Arrow-backed DataFrames.

One session per process: ``spark_session()`` builds it once (local[2], small driver, UI off, UTC)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from leadgate.definition.model import Definition
from leadgate.engines.base import Engine
from leadgate.engines.parquet_views import load_views
from leadgate.errors import EngineError

_SESSION: Any = None


def spark_session(master: str | None = None) -> Any:
    """The process's SparkSession, created on first use."""
    global _SESSION
    if _SESSION is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - the spark extra is not installed
            raise EngineError("the Spark engine needs pyspark: pip install 'leadgate[spark]'") from exc
        os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
        builder = (
            SparkSession.builder.master(master or os.environ.get("LEADGATE_SPARK_MASTER", "local[2]"))
            .appName("leadgate")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", os.environ.get("LEADGATE_SPARK_DRIVER_MEMORY", "1g"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.caseSensitive", "true")
        )
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkEngine(Engine):
    dialect = "spark"

    def __init__(self, master: str | None = None):
        self.spark = spark_session(master)
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        self.errors = (PySparkException, Py4JJavaError)

    def load_table(self, name: str, table: Any) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def load_files(
        self,
        defn: Definition,
        leads: Path,
        events: Path | None,
        accounts: Path | None,
        predictions: Path | None = None,
    ) -> bool:
        """Read Parquet inputs in the executors (not through the driver); False when the converting
        reader is needed."""
        files = {"leads": leads, "events": events, "accounts": accounts}
        if defn.models():
            files["predictions"] = predictions
        return load_views(
            lambda sql: [tuple(r) for r in self.spark.sql(sql).collect()], "spark", files, defn.field_types()
        )

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def fetch_arrow(self, sql: str) -> Any:
        return self.spark.sql(sql).toArrow()
