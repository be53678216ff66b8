"""Shared fixtures: engines by name (PostgreSQL and Spark only in their marked suites)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PG_URL = os.environ.get("LEADGATE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[object]:
    from leadgate.engines.spark import SparkEngine

    yield SparkEngine()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[object]:
    from leadgate.engines.postgres import PostgresEngine

    engine = PostgresEngine(PG_URL)
    yield engine
    engine.close()
