"""Connections to the store: the embedded SQLite file (WAL, so the server, the CLI and migrations can
write from several processes) or PostgreSQL via ``LEADGATE_DATABASE_URL``.  Only the store opens
connections; everything else hands it work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

DEFAULT_URL = "sqlite:///leadgate.db"
READ_ONLY = "leadgate_read_only"  # execution option: a transaction that only reads (see ``snapshot``)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("LEADGATE_DATABASE_URL") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy issues BEGIN itself (see _sqlite_begin): the driver's own implicit BEGIN is switched off.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Take the write lock when a transaction starts.  A deferred transaction that has read and then
    writes cannot wait for a busy database (SQLite skips the busy handler to avoid a deadlock) and fails
    with "database is locked"; an immediate one waits up to busy_timeout.  Writers (server threads, the
    scorer, the CLI in another process) are serialized; readers in WAL mode are not blocked.  A ``snapshot``
    only reads, so it begins deferred and never holds the write lock."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def connect(url: str | None = None) -> Engine:
    """A SQLAlchemy engine for the store at ``url`` (default: $LEADGATE_DATABASE_URL or ./leadgate.db)."""
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of the store across several queries (reports):
    on SQLite a deferred transaction (a WAL read snapshot that does not block writers), on PostgreSQL
    REPEATABLE READ, READ ONLY."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin():
            yield conn


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the store's schema up to ``revision`` (creating the database file if needed)."""
    command.upgrade(alembic_config(url), revision)
