"""Erasure: after it, no table holds anything of the person (every table is scanned, ignoring case), another
person's data is untouched, and one audit entry without personal data remains.  The person's id and email
have non-ASCII characters and turn up in other cases elsewhere (SQLite keeps JSON with \\u escapes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadgate.errors import NotFoundError
from leadgate.service.ingest import ingest
from leadgate.store import erasure, feedback, outbox, revenue
from leadgate.store.clock import utcnow
from leadgate.store.models import AuditEntry, Base, Lead, Prediction
from leadgate.store.store import IncomingEvent, Store
from tests.store.lifecycle_helpers import add_lead, ready

#: Everything that identifies the person; none of it may survive anywhere, in any case.
ZED, EMAIL = "Zëd-7F3", "Zoë.Secret@ZMail.test"
MARKS = (ZED, EMAIL, "anon-zed-91", "Zebulon Quixote", "+1-555-0199")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready(store_url)
    yield st
    st.engine.dispose()


def dump(store: Store) -> str:
    """Every value of every row of every table, as text."""
    out = []
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                out.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(out)


def predict(store: Store, lead_id: str, probability: float) -> None:
    store.record_predictions(
        [{"lead_id": lead_id, "model": "win", "probability": probability, "scored_at": utcnow(),
          "factors": [{"factor": "pricing_visits_30d", "weight": 0.8}]}]
    )  # fmt: skip


def test_nothing_of_an_erased_person_remains(store: Store) -> None:
    with store.session() as s, s.begin():
        outbox.subscribe(s, name="crm", url="http://127.0.0.1:9/h", event_types=["*"], now=utcnow())
        store.upsert_account(s, "zmail.test", {"domain": "zmail.test"})
        # an anonymous visit that later merges into the known lead
        anon = store.resolve(s, anonymous_id="anon-zed-91")
        anon_id = anon.id
        store.record_events(
            s,
            [IncomingEvent("zed-visit", anon.id, "page_view", utcnow() - timedelta(hours=1), {"path": "/pricing"},
                           context={"campaign": {"source": "newsletter", "medium": "email"}})],
        )  # fmt: skip
        # rejected input naming the person in other cases (and, on SQLite, stored with \\u escapes)
        store.reject(s, "segment", {"userId": ZED.lower(), "traits": {"email": EMAIL.upper()}}, ["bad"])
        store.reject(s, "segment", {"context": {"page": {"url": f"mailto:{EMAIL.lower()}"}}}, ["bad"])
        s.add(AuditEntry(at=utcnow(), actor="support", action="note", subject=ZED.upper(), details={}))
        s.add(AuditEntry(at=utcnow(), actor="support", action="note", subject=None, details={"to": [EMAIL.upper()]}))
    predict(store, anon_id, 0.2)  # a prediction of the anonymous lead, before the merge
    traits = {"name": "Zebulon Quixote", "phone": "+1-555-0199"}
    add_lead(store, ZED, email=EMAIL, traits=traits)
    add_lead(store, "other-1")  # someone else, who must be untouched
    predict(store, "other-1", 0.5)
    identify = {"type": "identify", "userId": ZED, "traits": {"name": "Zebulon Quixote"}, "messageId": "m-z"}
    assert ingest(store, [identify], score=False).accepted == 1  # kept raw in messages
    with store.session() as s, s.begin():
        store.resolve(s, user_id=ZED, anonymous_id="anon-zed-91")  # merge
        lead = s.get(Lead, ZED)
        assert lead is not None
        lead.account_id = "zmail.test"
        # a delivery attempt whose logged response echoes the person
        (job, *_) = outbox.claim(s, worker="w", now=utcnow())
        outbox.record(s, job, now=utcnow(), status_code=500, error="boom", duration_ms=1.0, response=EMAIL)
    predict(store, ZED, 0.7)
    feedback.touch(store, ZED, actor="dan", channel="call")
    feedback.accept(store, ZED, actor="dan", note="Zebulon Quixote wants a call")
    feedback.set_consent(store, ZED, {"email": True}, actor="tests")
    deal = revenue.OpportunityIn(id="opp-1", name="Zebulon Quixote: platform", lead_id=ZED, amount=12000, status="won")
    revenue.save(store, deal, actor="t")
    before = dump(store)
    assert all(mark in before for mark in MARKS)
    with store.session() as s:
        assert s.query(Prediction).count() == 3
    holding = {line.split(":", 1)[0] for line in before.splitlines() if any(mark in line for mark in MARKS)}
    assert {"messages", "predictions", "events", "identities", "scores", "leads"} <= holding
    other_before = [line for line in before.splitlines() if "other-1" in line and "webhook" not in line]

    result = erasure.erase(store, "anon:anon-zed-91", actor="dpo")  # any of the person's ids will do

    after = dump(store).casefold()
    for mark in MARKS:
        assert mark.casefold() not in after, [line for line in after.splitlines() if mark.casefold() in line]
    removed = result["removed"]
    assert removed["leads"] == 2 and removed["events"] >= 8 and removed["predictions"] == 2
    assert removed["rejected"] == 2 and removed["audit_log"] >= 3  # the two notes and the merge
    assert removed["webhook_attempts"] == 1
    with store.session() as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "lead.erased"))
        assert entry.actor == "dpo" and entry.subject == result["erasure_id"]
        assert [p.lead_id for p in s.scalars(select(Prediction))] == ["other-1"]
    opp = revenue.get(store, "opp-1")
    assert opp is not None and opp["lead_id"] is None and opp["name"] is None and opp["amount"] == 12000
    assert [line for line in dump(store).splitlines() if "other-1" in line and "webhook" not in line] == other_before
    with pytest.raises(NotFoundError):
        erasure.erase(store, ZED, actor="dpo")


def test_only_whole_identifiers_count_as_naming_someone() -> None:
    values = ["ann@acme.test", "l1"]
    assert erasure._names({"to": "mailto:ANN@acme.test?x=1"}, values)
    assert erasure._names(["l1"], values) and erasure._names({"L1": 1}, values)
    assert not erasure._names({"to": "joann@acme.test"}, values)
    assert not erasure._names({"to": "x.ann@acme.test", "id": "L10"}, values)
    assert erasure._patterns("Zoë.Secret@ZMail.test") == {".Secret@ZMail.test"}
    assert "\\u00eb" in "".join(erasure._patterns("zë"))  # short, non-ASCII: escaped forms too
