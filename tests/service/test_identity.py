"""Identity through ingestion, on SQLite and PostgreSQL: alias, form submissions and duplicates by email join
one lead whose score counts the union once; identify / group / alias messages are idempotent like events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from leadgate.service.ingest import ingest
from leadgate.store.models import Account, AuditEntry, Event, Identity, Lead, Message, Score
from leadgate.store.store import Store
from tests.service.conftest import ready_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready_store(store_url)
    yield st
    st.engine.dispose()


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def pricing(anon: str, prefix: str, n: int = 3) -> list[dict[str, Any]]:
    return [
        {"type": "page", "anonymousId": anon, "properties": {"path": "/pricing"}, "messageId": f"{prefix}{i}",
         "timestamp": ago(hours=i + 1)}
        for i in range(n)
    ]  # fmt: skip


def merges(store: Store) -> list[dict[str, Any]]:
    with store.reader() as s:
        return [e.details for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "lead.merged"))]


def test_alias_then_identify_of_a_new_user_in_one_batch(store: Store) -> None:
    """page (anonymous) → alias (anonymous → a new userId) → identify and track that userId, in one batch:
    one lead, the anonymous history joined, the merge recorded, and every page counted once."""
    batch = [
        *pricing("anon-z", "p"),
        {"type": "alias", "previousId": "anon-z", "userId": "user-z", "messageId": "a1"},
        {"type": "identify", "userId": "user-z", "traits": {"email": "zoe@acme-corp.io"}, "messageId": "i1"},
        {"type": "track", "userId": "user-z", "event": "demo_requested", "messageId": "t1"},
        {"type": "page", "anonymousId": "anon-z", "properties": {"path": "/pricing"}, "messageId": "p9"},
    ]
    result = ingest(store, batch)
    assert (result.accepted, result.duplicates, result.rejected) == (7, 0, [])
    with store.reader() as s:
        assert s.get(Lead, "anon:anon-z").merged_into == "user-z"  # type: ignore[union-attr]
        assert [lead.id for lead in s.scalars(select(Lead).where(Lead.merged_into.is_(None)))] == ["user-z"]
        assert set(s.scalars(select(Event.lead_id))) == {"user-z"}
        assert s.scalar(select(func.count()).select_from(Identity).where(Identity.value == "user-z")) == 1
    assert merges(store) == [{"merged": "anon:anon-z", "into": "user-z"}]
    out = store.score(["user-z"])
    assert out is not None
    (score,) = out.scores
    assert score.contributions["pricing_3x"].count == 4 and score.contributions["demo_request"].count == 1
    assert score.engagement == 15 + 25  # each rule once: the joined history is not counted twice


def test_alias_in_a_later_batch_joins_the_known_lead(store: Store) -> None:
    ingest(store, pricing("anon-q", "p"))
    ingest(store, [{"type": "identify", "userId": "user-q", "traits": {"title": "VP Sales"}, "messageId": "i1"}])
    ingest(store, [{"type": "alias", "previousId": "anon-q", "userId": "user-q", "messageId": "a1"}])
    assert merges(store) == [{"merged": "anon:anon-q", "into": "user-q"}]
    out = store.score(["user-q"])
    assert out is not None and out.scores[0].contributions["pricing_3x"].count == 3
    assert out.scores[0].fit == 15


def test_an_alias_to_a_previous_id_never_seen_keeps_it_for_later(store: Store) -> None:
    ingest(store, [{"type": "alias", "previousId": "anon-new", "userId": "user-n", "messageId": "a1"}])
    ingest(store, pricing("anon-new", "p"))  # the browser's events arrive after the alias
    with store.reader() as s:
        assert set(s.scalars(select(Event.lead_id))) == {"user-n"}
        assert s.scalar(select(func.count()).select_from(Lead)) == 1


def test_a_retried_identify_group_alias_batch_is_counted_once_and_not_applied_again(store: Store) -> None:
    first = [
        {"type": "identify", "userId": "u1", "traits": {"title": "Intern", "email": "ann@acme.io"},
         "messageId": "i-old"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"employees": 10}, "messageId": "g-old"},
        {"type": "alias", "previousId": "v1", "userId": "u1", "messageId": "a-1"},
    ]  # fmt: skip
    assert ingest(store, first).accepted == 3
    newer = [
        {"type": "identify", "userId": "u1", "traits": {"title": "VP Sales"}, "messageId": "i-new"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"employees": 120}, "messageId": "g-new"},
    ]
    assert ingest(store, newer).accepted == 2
    retry = ingest(store, first)  # an out-of-order retry of the first batch: must not undo the newer traits
    assert (retry.accepted, retry.duplicates) == (0, 3)
    with store.reader() as s:
        lead = s.get(Lead, "u1")
        assert lead is not None and lead.traits["title"] == "VP Sales"
        account = s.get(Account, "acme")
        assert account is not None and account.traits["employees"] == 120
        rows = {m.message_id: (m.type, m.lead_id) for m in s.scalars(select(Message))}
        stored = s.scalars(select(Message).where(Message.message_id == "i-old")).one()
    assert rows == {
        "i-old": ("identify", "u1"),
        "g-old": ("group", "u1"),
        "a-1": ("alias", "u1"),
        "i-new": ("identify", "u1"),
        "g-new": ("group", "u1"),
    }
    assert stored.payload["traits"] == {"title": "Intern", "email": "ann@acme.io"} and stored.source == "segment"
    same_batch = ingest(store, [{"type": "identify", "userId": "u2", "messageId": "x"}] * 2)
    assert (same_batch.accepted, same_batch.duplicates) == (1, 1)


def test_a_message_without_message_id_is_recognised_by_its_content(store: Store) -> None:
    message = {"type": "identify", "userId": "u3", "traits": {"title": "CTO"}}
    assert ingest(store, [message]).accepted == 1
    assert ingest(store, [dict(message)]).duplicates == 1


def test_a_form_submission_identifies_the_anonymous_visitor(store: Store) -> None:
    """track("Form Submitted", properties={"email": ...}) from an anonymous visitor: the lead learns the
    address (and its account, its free-mail flag) as identify would, and merges with the lead that has it."""
    ingest(store, [{"type": "identify", "userId": "crm-7", "traits": {"email": "Bo@Acme-Corp.io"}, "messageId": "i"}])
    ingest(store, pricing("anon-f", "p", 2))
    form = {"type": "track", "anonymousId": "anon-f", "event": "Form Submitted",
            "properties": {"email": "bo@acme-corp.io", "form": "contact"}, "messageId": "f1"}  # fmt: skip
    assert ingest(store, [form]).accepted == 1
    with store.reader() as s:
        assert s.get(Lead, "anon:anon-f").merged_into == "crm-7"  # type: ignore[union-attr]
        assert set(s.scalars(select(Event.lead_id))) == {"crm-7"}
    assert merges(store) == [{"merged": "anon:anon-f", "into": "crm-7"}]
    ingest(store, pricing("anon-g", "g", 1))
    other = {**form, "anonymousId": "anon-g", "properties": {"email": "kim@gmail.com"}, "messageId": "f2"}
    ingest(store, [other])
    with store.reader() as s:
        lead = s.get(Lead, "anon:anon-g")
        assert lead is not None and lead.known and lead.email == "kim@gmail.com"
        assert lead.traits["email_free"] is True and lead.account_id is None


def test_a_form_submission_with_a_bad_address_is_rejected_with_the_field(store: Store) -> None:
    form = {"type": "track", "anonymousId": "a", "event": "Form Submitted", "properties": {"email": "not-an-email"}}
    result = ingest(store, [form])
    assert result.accepted == 0 and result.rejected[0]["problems"][0].startswith("properties.email: ")
    page = {"type": "page", "anonymousId": "a", "properties": {"email": "not-an-email"}}  # only track is a form
    assert ingest(store, [page]).accepted == 1


def test_duplicate_leads_merged_by_email_count_their_events_once(store: Store) -> None:
    ingest(store, [{"type": "identify", "userId": "crm-1", "traits": {"email": "dee@acme.io"}, "messageId": "i1"},
                   *({**p, "anonymousId": None, "userId": "crm-1"} for p in pricing("", "a", 2)),
                   {"type": "track", "userId": "crm-1", "event": "demo_requested", "messageId": "d1"}])  # fmt: skip
    ingest(store, [{"type": "identify", "userId": "crm-2", "traits": {"email": "DEE@acme.io"}, "messageId": "i2"},
                   *({**p, "anonymousId": None, "userId": "crm-2"} for p in pricing("", "b", 1)),
                   {"type": "track", "userId": "crm-2", "event": "demo_requested", "messageId": "d2"}])  # fmt: skip
    with store.reader() as s:
        live = list(s.scalars(select(Lead.id).where(Lead.merged_into.is_(None))))
        assert live == ["crm-2"] and s.get(Score, "crm-1") is None
        assert s.scalar(select(func.count()).select_from(Event).where(Event.lead_id == "crm-2")) == 5
    out = store.score(None)
    assert out is not None and [x.lead_id for x in out.scores] == ["crm-2"]
    (score,) = out.scores
    assert score.contributions["pricing_3x"].count == 3  # 2 + 1: neither lead's pages counted twice
    assert score.contributions["demo_request"].count == 2 and score.engagement == 25 + 15
