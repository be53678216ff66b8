"""Connections: many writer threads, a reader and the scorer on one store at once, without "database is
locked"; on SQLite writers queue in arrival order and readers never wait for them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from leadgate.errors import StoreBusy
from leadgate.store import db
from leadgate.store.models import Event, Lead
from leadgate.store.store import IncomingEvent, Store
from tests.conftest import EXAMPLES

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    # A short wait makes starvation show at once: SQLite's own busy handler polls with growing sleeps and,
    # with eight threads writing back to back, lets a waiter miss its turn past any timeout.
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 2.0)
    st = Store(store_url)
    st.upgrade()
    v = st.push_definition((EXAMPLES / "classic.yaml").read_text(), author="tests")
    st.activate(v.id, actor="tests")
    yield st
    st.engine.dispose()


def test_concurrent_writers_readers_and_scoring_never_fail(store: Store) -> None:
    threads_n, batches, per_batch = 8, 15, 20
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(n: int) -> None:
        try:
            for b in range(batches):
                with store.session() as s, s.begin():
                    lead = store.resolve(s, user_id=f"w{n}-{b % 3}", at=NOW)
                    store.record_events(s, [
                        IncomingEvent(message_id=f"{n}-{b}-{i}", lead_id=lead.id, event="page_view",
                                      ts=NOW - timedelta(minutes=i), properties={"path": "/pricing"})
                        for i in range(per_batch)
                    ])  # fmt: skip
                    time.sleep(0.002)  # work inside the transaction, as ingestion does
        except BaseException as exc:
            errors.append(exc)

    def scorer() -> None:
        try:
            while not done.is_set():
                store.score(None, as_of=NOW)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    background = threading.Thread(target=scorer)
    background.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    done.set()
    background.join()
    assert errors == []
    with store.reader() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == threads_n * batches * per_batch
        assert s.scalar(select(func.count()).select_from(Lead)) == threads_n * 3
    outcome = store.score(None, as_of=NOW)
    assert outcome is not None and len(outcome.scores) == threads_n * 3


def test_a_reader_does_not_wait_for_a_writer(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the write queue is SQLite's")
    with store.session() as s, s.begin():
        store.resolve(s, user_id="u1", at=NOW)
        started = time.perf_counter()
        with store.reader() as r:  # a snapshot from before this transaction
            assert r.scalar(select(func.count()).select_from(Lead)) == 0
        assert time.perf_counter() - started < 1


def test_writers_get_the_store_in_arrival_order() -> None:
    queue = db.WriterQueue()
    assert queue.acquire(1)
    order: list[int] = []

    def wait(n: int) -> None:
        assert queue.acquire(5)
        order.append(n)
        queue.release()

    threads = []
    for n in range(5):
        threads.append(threading.Thread(target=wait, args=(n,)))
        threads[-1].start()
        time.sleep(0.02)  # arrive one after another
    queue.release()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]
    assert queue.acquire(0.1)  # free again


def test_a_nested_write_in_one_thread_fails_clearly(tmp_path: object) -> None:
    st = Store(f"sqlite:///{tmp_path}/nested.db")
    st.upgrade()
    with st.session() as s, s.begin():
        s.execute(text("SELECT 1"))
        with pytest.raises(StoreBusy, match="nested"), st.session() as inner, inner.begin():
            inner.execute(text("SELECT 1"))
    with st.session() as s, s.begin():  # the queue was released by both
        s.execute(text("SELECT 1"))
    st.engine.dispose()
