"""Ingestion in process (no HTTP): identity within one batch, and what a batch reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from leadgate.service.ingest import event_time, ingest
from leadgate.store.models import Event, Identity, Lead
from leadgate.store.store import Store
from tests.service.conftest import ready_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready_store(store_url)
    yield st
    st.engine.dispose()


def test_one_batch_identifies_groups_and_tracks_the_same_person(store: Store) -> None:
    batch = [
        {"type": "page", "anonymousId": "v1", "properties": {"path": "/pricing"}, "messageId": "1"},
        {"type": "identify", "userId": "u1", "anonymousId": "v1", "traits": {"email": "Ann@Acme.io"},
         "messageId": "2"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"employees": 120}, "messageId": "3"},
        {"type": "track", "userId": "u1", "event": "demo_requested", "messageId": "4"},
        {"type": "track", "anonymousId": "v1", "event": "trial_started", "messageId": "5"},
    ]  # fmt: skip
    result = ingest(store, batch)
    assert (result.accepted, result.rejected) == (5, [])
    with store.session() as s:
        live = s.scalars(select(Lead).where(Lead.merged_into.is_(None))).all()
        assert [lead.id for lead in live] == ["u1"] and live[0].account_id == "acme"
        kinds = s.execute(select(Identity.kind, func.count()).group_by(Identity.kind)).all()
        assert dict(kinds) == {"anonymous_id": 1, "email": 1, "user_id": 1}
    scores = store.score(["u1"])
    assert scores is not None and scores.scores[0].contributions["demo_request"].count == 1
    assert scores.scores[0].contributions["free_trial"].count == 1  # tracked as the anonymous id, counted once
    assert scores.scores[0].contributions["pricing_3x"].count == 1  # sent before the identify that merged it
    with store.session() as s:
        assert set(s.scalars(select(Event.lead_id))) == {"u1"}


def test_event_time_corrects_the_clients_clock() -> None:
    from datetime import datetime, timedelta

    received = datetime(2026, 11, 1, 12, 0, 0)
    msg = {"timestamp": "2026-11-01T14:59:00Z"}  # client clock 3 h fast, event a minute before sending
    assert event_time(msg, datetime(2026, 11, 1, 15, 0, 0), received) == received - timedelta(minutes=1)
    assert event_time({}, None, received) == received


def test_concurrent_batches_for_the_same_new_person_make_one_lead(store: Store) -> None:
    import threading

    errors: list[BaseException] = []

    def send(n: int) -> None:
        batch = [
            {"type": "identify", "userId": "racer", "traits": {"email": "racer@acme.io"}, "messageId": f"i{n}"},
            *({"type": "track", "userId": "racer", "event": "page_view", "messageId": f"t{n}-{i}"} for i in range(20)),
        ]
        try:
            ingest(store, batch, score=False)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as s:
        assert [lead.id for lead in s.scalars(select(Lead).where(Lead.merged_into.is_(None)))] == ["racer"]
        assert s.get(Lead, "racer").account_id == "acme.io"  # type: ignore[union-attr]
    assert store.status()["events"] == 120
