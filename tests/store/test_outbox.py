"""The outbox: written in the change's transaction, fanned out by event type and consent, handed out in
order per lead, retried with backoff, dead after its maximum age, replayable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from leadgate.errors import LeadgateError
from leadgate.store import consent, outbox
from leadgate.store.clock import utcnow
from leadgate.store.models import Lead
from leadgate.store.models_lifecycle import OutboxEvent, WebhookAttempt, WebhookDelivery
from leadgate.store.store import Store
from tests.store.lifecycle_helpers import ready


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready(store_url, routing_text=None)
    with st.session() as s, s.begin():
        for name in ("a", "b"):
            st.resolve(s, user_id=name)
    yield st
    st.engine.dispose()


def subscribe(store: Store, types: list[str], **kw: object) -> int:
    with store.session() as s, s.begin():
        return outbox.subscribe(s, name="t", url="http://127.0.0.1:9/x", event_types=types, now=utcnow(), **kw).id  # type: ignore[arg-type]


def emit(store: Store, event_type: str, lead_id: str | None, n: int = 1) -> None:
    with store.session() as s, s.begin():
        for i in range(n):
            outbox.emit(s, event_type, {"i": i, "lead": {"id": lead_id}}, lead_id=lead_id, now=utcnow())


def count(store: Store, model: type) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_fan_out_by_event_type_and_nothing_without_subscribers(store: Store) -> None:
    emit(store, "mql.created", "a")
    assert count(store, OutboxEvent) == 0
    subscribe(store, ["mql.created"])
    subscribe(store, ["*"])
    emit(store, "mql.created", "a")
    emit(store, "lead.assigned", "a")
    assert count(store, OutboxEvent) == 2
    assert count(store, WebhookDelivery) == 3


def test_written_in_the_same_transaction_as_the_change(store: Store) -> None:
    subscribe(store, ["*"])
    with pytest.raises(RuntimeError), store.session() as s, s.begin():
        outbox.emit(s, "mql.created", {}, lead_id="a", now=utcnow())
        raise RuntimeError("the change failed")
    assert count(store, OutboxEvent) == 0 and count(store, WebhookDelivery) == 0


def test_one_lead_at_a_time_in_order_other_leads_in_parallel(store: Store) -> None:
    subscribe(store, ["*"])
    emit(store, "lead.stage_changed", "a", n=3)
    emit(store, "lead.stage_changed", "b", n=2)
    now = utcnow() + timedelta(seconds=1)
    seen: list[tuple[str, int]] = []
    for _ in range(4):
        with store.session() as s, s.begin():
            jobs = outbox.claim(s, worker="w", now=now)
            assert len({j.payload["data"]["lead"]["id"] for j in jobs}) == len(jobs)  # never two of one lead
            for job in jobs:
                seen.append((job.payload["data"]["lead"]["id"], job.payload["data"]["i"]))
                outbox.record(s, job, now=now, status_code=200, error=None, duration_ms=1.0)
    assert [i for lead, i in seen if lead == "a"] == [0, 1, 2]
    assert [i for lead, i in seen if lead == "b"] == [0, 1]
    assert len(seen) == 5


def test_a_failure_blocks_the_lead_and_backs_off_then_dies(store: Store) -> None:
    subscribe(store, ["*"])
    emit(store, "lead.stage_changed", "a", n=2)
    now = utcnow() + timedelta(seconds=1)
    delays = []
    for attempt in range(1, 5):
        with store.session() as s, s.begin():
            (job,) = outbox.claim(s, worker="w", now=now)
            assert job.payload["data"]["i"] == 0  # the second waits behind the first
            outbox.record(s, job, now=now, status_code=503, error="HTTP 503", duration_ms=1.0, max_age=3600)
            row = s.get(WebhookDelivery, job.delivery_id)
            assert row is not None and row.status == "pending" and row.attempts == attempt
            delays.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
    assert all(0.8 * 2 ** (n - 1) <= d <= 1.2 * 2 ** (n - 1) for n, d in enumerate(delays, start=1))
    with store.session() as s, s.begin():
        assert outbox.claim(s, worker="w", now=now - timedelta(milliseconds=1)) == []  # not due yet
        (job,) = outbox.claim(s, worker="w", now=now + timedelta(hours=2))
        assert outbox.record(s, job, now=now + timedelta(hours=2), status_code=None, error="refused",
                             duration_ms=1.0, max_age=3600) == "dead"  # fmt: skip
        (nxt,) = outbox.claim(s, worker="w", now=now + timedelta(hours=2))  # a dead one no longer blocks
        assert nxt.payload["data"]["i"] == 1
    assert count(store, WebhookAttempt) == 5


def test_a_lease_keeps_a_delivery_from_a_second_worker(store: Store) -> None:
    subscribe(store, ["*"])
    emit(store, "mql.created", "a")
    now = utcnow() + timedelta(seconds=1)
    with store.session() as s, s.begin():
        assert len(outbox.claim(s, worker="w1", now=now, lease=30)) == 1
    with store.session() as s, s.begin():
        assert outbox.claim(s, worker="w2", now=now + timedelta(seconds=10)) == []
        assert len(outbox.claim(s, worker="w2", now=now + timedelta(seconds=31))) == 1  # w1 died


def test_replay_resends_with_the_same_id(store: Store) -> None:
    subscribe(store, ["*"])
    emit(store, "mql.created", "a")
    now = utcnow() + timedelta(seconds=1)
    with store.session() as s, s.begin():
        (job,) = outbox.claim(s, worker="w", now=now)
        outbox.record(s, job, now=now, status_code=204, error=None, duration_ms=1.0)
    with store.session() as s, s.begin():
        assert outbox.claim(s, worker="w", now=now) == []
        with pytest.raises(LeadgateError, match="name deliveries, or filter"):
            outbox.replay(s, now=now)
        with pytest.raises(LeadgateError, match="no webhook deliveries 999"):
            outbox.replay(s, now=now, delivery_ids=[999])
        assert outbox.replay(s, now=now, lead_id="a") == 1
    with store.session() as s, s.begin():
        (again,) = outbox.claim(s, worker="w", now=now)
    assert again.event_id == job.event_id


def test_consent_refusal_silences_subscriptions_that_respect_it(store: Store) -> None:
    respectful = subscribe(store, ["*"])
    crm = subscribe(store, ["*"], respect_consent=False)
    emit(store, "lead.stage_changed", "a")  # pending for both
    with store.session() as s, s.begin():
        lead = s.get(Lead, "a")
        assert lead is not None
        consent.update(s, lead, {"sales_contact": False}, source="api", actor="t", now=utcnow())
    emit(store, "mql.created", "a")
    with store.session() as s:
        rows = s.execute(
            select(OutboxEvent.event_type, WebhookDelivery.subscription_id, WebhookDelivery.status)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
            .order_by(WebhookDelivery.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("lead.stage_changed", respectful, "cancelled"),
        ("lead.stage_changed", crm, "pending"),
        ("consent.changed", respectful, "pending"),  # the withdrawal itself reaches everyone
        ("consent.changed", crm, "pending"),
        ("mql.created", crm, "pending"),
    ]


def test_email_and_sms_refusals_silence_the_subscriptions_that_need_them(store: Store) -> None:
    crm = subscribe(store, ["*"])  # respects consent: needs sales contact
    mailer = subscribe(store, ["*"], respect_consent=False, require_consent=["email"])  # a marketing-email tool
    texter = subscribe(store, ["*"], require_consent=["sms", "sms "])  # needs sms and sales contact
    emit(store, "lead.stage_changed", "a")  # pending for all three
    with store.session() as s, s.begin():
        lead = s.get(Lead, "a")
        assert lead is not None
        consent.update(s, lead, {"email": False}, source="api", actor="t", now=utcnow())
    emit(store, "mql.created", "a")
    with store.session() as s, s.begin():
        lead = s.get(Lead, "b")
        assert lead is not None
        consent.update(s, lead, {"sales_contact": False, "email": True}, source="api", actor="t", now=utcnow())
    emit(store, "mql.created", "b")
    with store.session() as s:
        rows = s.execute(
            select(OutboxEvent.event_type, WebhookDelivery.lead_id, WebhookDelivery.subscription_id,
                   WebhookDelivery.status)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
            .order_by(WebhookDelivery.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("lead.stage_changed", "a", crm, "pending"),
        ("lead.stage_changed", "a", mailer, "cancelled"),  # a refused email
        ("lead.stage_changed", "a", texter, "pending"),
        ("consent.changed", "a", crm, "pending"),  # the withdrawal itself reaches everyone
        ("consent.changed", "a", mailer, "pending"),
        ("consent.changed", "a", texter, "pending"),
        ("mql.created", "a", crm, "pending"),
        ("mql.created", "a", texter, "pending"),
        ("consent.changed", "b", crm, "pending"),
        ("consent.changed", "b", mailer, "pending"),
        ("consent.changed", "b", texter, "pending"),
        ("mql.created", "b", mailer, "pending"),  # b refused sales contact, not email
    ]
    unknown = "require consent: expected any of email, sms, sales_contact; found fax"
    with store.session() as s, pytest.raises(LeadgateError, match=unknown):
        outbox.subscribe(s, name="x", url="http://x", event_types=["*"], require_consent=["fax"], now=utcnow())


def test_subscriptions_check_their_input(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(LeadgateError, match="expected an http:// or https:// URL"):
            outbox.subscribe(s, name="x", url="ftp://x", event_types=["*"], now=utcnow())
        with pytest.raises(LeadgateError, match=r"found lead\.exploded"):
            outbox.subscribe(s, name="x", url="http://x", event_types=["lead.exploded"], now=utcnow())
        with pytest.raises(LeadgateError, match="whsec_"):
            outbox.subscribe(s, name="x", url="http://x", event_types=["*"], secret="hunter2", now=utcnow())
    assert outbox.new_secret().startswith("whsec_")
