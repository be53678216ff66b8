"""Connections to the store: the embedded SQLite file (WAL, so the server, the CLI and migrations can
write from several processes) or PostgreSQL via ``LEADGATE_DATABASE_URL``.  Only the store opens
connections; everything else hands it work.

SQLite takes one writer at a time.  Its busy handler, which makes a writer wait for another, polls with
growing sleeps and is not fair: under steady load from several threads a waiter can starve past any
timeout ("database is locked").  So within a process, writers queue on a first-come first-served lock
(one per database file) before ``BEGIN IMMEDIATE``, and the busy handler only arbitrates between
processes.  Read-only work (scoring queries, key checks, status) opens ``BEGIN`` (deferred): in WAL mode
it reads a snapshot and neither waits for nor blocks writers.  Mark it with ``read_only(engine)``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url

from leadgate.errors import StoreBusy

DEFAULT_URL = "sqlite:///leadgate.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30.0
READ_ONLY = "leadgate_read_only"  # execution option: this connection's transactions only read (``snapshot``)


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("LEADGATE_DATABASE_URL") or DEFAULT_URL


class WriterQueue:
    """A first-come first-served lock: writers get the database in the order they asked for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False
        self.owner: int | None = None

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held, self.owner = True, threading.get_ident()
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            self.owner = threading.get_ident()
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait timed out: pass it on
                self._release_locked()
            else:
                self._waiters.remove(turn)
        return False

    def release(self) -> None:
        with self._mutex:
            self._release_locked()

    def _release_locked(self) -> None:
        self.owner = None
        if self._waiters:
            self._waiters.popleft().set()  # ownership passes straight to the next in line
        else:
            self._held = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(path: str) -> WriterQueue:
    """The queue of one database file, shared by every engine of this process that opens it."""
    key = path if path in ("", ":memory:") else os.path.realpath(path)
    with _queues_lock:
        return _queues.setdefault(key, WriterQueue())


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions hold its file's ``WriterQueue``."""

    queue: WriterQueue
    holds = False

    def begin(self, write: bool) -> None:
        if not write:
            self.execute("BEGIN")
            return
        if self.queue.owner == threading.get_ident():
            raise StoreBusy("a write transaction was opened while this thread already holds one (nested writes)")
        if not self.queue.acquire(BUSY_TIMEOUT_S):
            raise StoreBusy(f"the store stayed busy for {BUSY_TIMEOUT_S:g} s; try again")
        self.holds = True
        try:
            self.execute("BEGIN IMMEDIATE")  # waits (busy_timeout) only for writers in other processes
        except BaseException:
            self._let_go()
            raise

    def _let_go(self) -> None:
        if self.holds:
            self.holds = False
            self.queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy issues BEGIN itself (see _sqlite_begin): the driver's own implicit BEGIN is switched off.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Open the transaction: a writer queues for the file, then takes SQLite's write lock at once (a
    deferred transaction that has read and then writes cannot wait for a busy database; SQLite fails it);
    a reader opens a snapshot."""
    write = not conn.get_execution_options().get(READ_ONLY, False)
    conn.connection.dbapi_connection.begin(write)


def read_only(engine: Engine) -> Engine:
    """The same engine for work that only reads: on SQLite it neither queues for nor blocks writers."""
    return engine.execution_options(**{READ_ONLY: True})


def connect(url: str | None = None) -> Engine:
    """A SQLAlchemy engine for the store at ``url`` (default: $LEADGATE_DATABASE_URL or ./leadgate.db)."""
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        queue = writer_queue(make_url(url).database or "")
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "factory": QueuedConnection})

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.queue = queue
            _sqlite_pragmas(dbapi_connection, record)

        event.listen(engine, "connect", on_connect)
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
