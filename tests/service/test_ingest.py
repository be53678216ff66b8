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


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def test_a_bot_page_view_is_kept_flagged_and_never_scored(store: Store) -> None:
    pages = [
        {"type": "page", "userId": who, "properties": {"path": "/pricing"}, "messageId": f"{who}-{i}",
         "context": {"userAgent": agent}}
        for who, agent in (("crawled", GOOGLEBOT), ("person", CHROME))
        for i in range(3)
    ]  # fmt: skip
    assert ingest(store, pages).accepted == 6
    with store.session() as s:
        flags = {(e.lead_id, e.is_bot) for e in s.scalars(select(Event))}
    assert flags == {("crawled", True), ("person", False)}
    out = store.score(["crawled", "person"])
    assert out is not None
    by_lead = {x.lead_id: x for x in out.scores}
    assert by_lead["crawled"].contributions["pricing_3x"].count == 0 and by_lead["crawled"].engagement == 0
    assert by_lead["person"].contributions["pricing_3x"].count == 3 and by_lead["person"].engagement == 15


MAILBOXES = """
schema: 1
name: mailboxes
version: 1
fit:
  - id: company_mail
    when: {trait: email_free, equals: false}
    points: 20
  - id: free_mail
    when: {trait: email_free, equals: true}
    points: -10
  - id: throwaway
    when: {trait: email_disposable, equals: true}
    points: -50
engagement: []
qualify:
  threshold: 20
"""


def test_fit_rules_read_the_free_mail_and_disposable_traits(store: Store) -> None:
    store.activate(store.push_definition(MAILBOXES, author="tests").id, actor="tests")
    people = {"work": "ann@acme-corp.io", "home": "bob@gmail.com", "burner": "cy@mailinator.com"}
    ingest(store, [{"type": "identify", "userId": who, "traits": {"email": email}, "messageId": who}
                   for who, email in people.items()])  # fmt: skip
    with store.session() as s:
        leads = s.scalars(select(Lead)).all()
        traits = {lead.id: (lead.traits["email_free"], lead.traits["email_disposable"]) for lead in leads}
    assert traits == {"work": (False, False), "home": (True, False), "burner": (False, True)}
    out = store.score(list(people))
    assert out is not None
    assert {x.lead_id: (x.fit, x.qualified) for x in out.scores} == {
        "work": (20, True),
        "home": (-10, False),
        "burner": (-30, False),  # not free mail (+20), disposable (-50)
    }


def test_event_time_follows_segments_timestamp_rules() -> None:
    from datetime import datetime, timedelta

    received = datetime(2026, 11, 1, 12, 0, 0)
    fast = datetime(2026, 11, 1, 15, 0, 0)  # the client's clock, three hours fast, when it sent the batch
    # the stamp the client made (originalTimestamp, or a timestamp passed without one): corrected
    assert event_time({"originalTimestamp": "2026-11-01T14:50:00Z"}, fast, received) == received - timedelta(minutes=10)
    assert event_time({"timestamp": "2026-11-01T14:50:00Z"}, fast, received) == received - timedelta(minutes=10)
    in_message = {"originalTimestamp": "2026-11-01T14:50:00+00:00", "sentAt": "2026-11-01T15:00:00Z"}
    assert event_time(in_message, None, received) == received - timedelta(minutes=10)  # the message's own sentAt
    # timestamp already computed (it comes with its originalTimestamp): as it is, not corrected twice
    computed = {"timestamp": "2026-11-01T11:50:00Z", "originalTimestamp": "2026-11-01T14:50:00Z"}
    assert event_time(computed, fast, received) == datetime(2026, 11, 1, 11, 50, 0)
    # without sentAt there is nothing to correct with; without any stamp it happened when it arrived
    assert event_time({"timestamp": "2026-10-01T08:00:00-04:00"}, None, received) == datetime(2026, 10, 1, 12, 0)
    assert event_time({}, fast, received) == received
