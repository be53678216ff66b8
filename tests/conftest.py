"""Shared fixtures: engines by name (PostgreSQL and Spark only in their marked suites)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PG_URL = os.environ.get("LEADGATE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store database: a SQLite file, or (postgres suite) a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"lg_test_{secrets.token_hex(4)}"
    server = PG_URL.rsplit("/", 1)[0]
    admin = create_engine(
        server.replace("postgresql://", "postgresql+psycopg://") + "/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{server}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


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
