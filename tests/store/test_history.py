"""A backtest over the live store: the same history as files gives the same MQLs (bot traffic and merged
leads handled as scoring handles them), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from leadgate.backtest import History, Snapshots, backtest
from leadgate.backtest.replay import FirstMql
from leadgate.store.history import read_history
from leadgate.store.store import IncomingEvent, Store
from tests.backtest import tiny


def when(days: float) -> datetime:
    return datetime.fromtimestamp(tiny.at(days), UTC).replace(tzinfo=None)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    with st.session() as s, s.begin():
        for lead_id, title, created in tiny.LEADS:
            lead = st.resolve(s, user_id=lead_id, at=when(created if created is not None else -40))
            lead.traits = {"title": title} if title else {"title": 7}  # a number: not a title
        visitor = st.resolve(s, anonymous_id="v1", at=when(-50))  # later merged into D: its history moves
        st.record_events(s, [IncomingEvent("v1-0", visitor.id, "pricing", when(5))])
        events = [IncomingEvent(f"m{i}", lead, name, when(day)) for i, (lead, name, day) in enumerate(tiny.EVENTS)]
        events.append(IncomingEvent("bot", "B", "demo", when(3), is_bot=True))  # would qualify B in period 1
        st.record_events(s, events)
    with st.session() as s, s.begin():
        st.resolve(s, user_id="D", anonymous_id="v1", at=when(6))
    yield st
    st.engine.dispose()


def test_history_reads_typed_tables(store: Store) -> None:
    data = read_history(store, tiny.definition().field_types())
    assert sorted(data.leads.column("lead_id").to_pylist()) == list("ABCDEFGH")  # the visitor merged into D
    assert data.leads.schema.field("created_at").type == pa.timestamp("us")
    titles = dict(zip(data.leads.column("lead_id").to_pylist(), data.leads.column("title").to_pylist(), strict=True))
    assert titles["A"] == "VP" and titles["B"] is None  # a JSON number is no text title
    assert data.events.num_rows == len(tiny.EVENTS) + 1  # the bot's event left out, the visitor's kept
    d_events = [t for lead, t in zip(data.events.column("lead_id").to_pylist(),
                                     data.events.column("event").to_pylist(), strict=True) if lead == "D"]  # fmt: skip
    assert sorted(d_events) == ["pricing"] * 4


def test_backtest_from_the_store(store: Store) -> None:
    report = backtest(
        tiny.definition(), History(database=store.url), Snapshots.between(tiny.at(0), tiny.at(21), "week")
    )
    mqls = [FirstMql(m.lead_id, m.period, m.mql_at, m.how) for m in report.definition.mqls]
    # as from the files (tests/backtest/tiny.py); D now has pricing +3d +4d +5d (the merged visitor's):
    # 20 + 30 = 50, still no MQL; the bot's demo for B is not seen
    assert mqls == [
        FirstMql("A", 1, tiny.at(2 + 10 / 24), "event"),
        FirstMql("F", 2, tiny.at(7.5), "window"),
        FirstMql("B", 2, tiny.at(12), "event"),
        FirstMql("E", 3, tiny.at(15), "created"),
        FirstMql("G", 3, tiny.at(20), "event"),
    ]
    assert report.history == f"store {store.url}"


def test_trait_types_name_every_trait_with_its_kind(store: Store) -> None:
    from leadgate.store.history import trait_types

    assert trait_types(store) == {("leads", "title"): "string"}  # text for most leads, a number for one
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="Z", at=when(1))
        lead.traits = {"employees": 40, "paid": True, "tags": ["a"], "email": "not a trait"}
        store.record_events(s, [IncomingEvent("z1", "Z", "page_view", when(2), properties={"path": "/pricing"})])
    assert trait_types(store) == {
        ("leads", "title"): "string", ("leads", "employees"): "number", ("leads", "paid"): "boolean",
        ("events", "path"): "string",
    }  # fmt: skip
