"""Erasure: after it, no table holds anything of the person (every table is scanned), another person's data
is untouched, and one audit entry without personal data remains."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadgate.errors import NotFoundError
from leadgate.service.ingest import ingest
from leadgate.store import erasure, feedback, outbox, revenue
from leadgate.store.clock import utcnow
from leadgate.store.models import AuditEntry, Base, Lead
from leadgate.store.store import IncomingEvent, Store
from tests.store.lifecycle_helpers import add_lead, ready

#: Everything that identifies the person; none of it may survive anywhere.
MARKS = ("zed-7f3", "zed.secret@zmail.test", "anon-zed-91", "Zebulon Quixote", "+1-555-0199")


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


def test_nothing_of_an_erased_person_remains(store: Store) -> None:
    with store.session() as s, s.begin():
        outbox.subscribe(s, name="crm", url="http://127.0.0.1:9/h", event_types=["*"], now=utcnow())
        store.upsert_account(s, "zmail.test", {"domain": "zmail.test"})
        # an anonymous visit that later merges into the known lead
        anon = store.resolve(s, anonymous_id="anon-zed-91")
        store.record_events(
            s,
            [IncomingEvent("zed-visit", anon.id, "page_view", utcnow() - timedelta(hours=1), {"path": "/pricing"},
                           context={"campaign": {"source": "newsletter", "medium": "email"}})],
        )  # fmt: skip
        store.reject(s, "segment", {"userId": "zed-7f3", "traits": {"email": "zed.secret@zmail.test"}}, ["bad"])
    traits = {"name": "Zebulon Quixote", "phone": "+1-555-0199"}
    add_lead(store, "zed-7f3", email="zed.secret@zmail.test", traits=traits)
    add_lead(store, "other-1")  # someone else, who must be untouched
    identify = {"type": "identify", "userId": "zed-7f3", "traits": {"name": "Zebulon Quixote"}, "messageId": "m-z"}
    assert ingest(store, [identify], score=False).accepted == 1  # kept raw in messages
    store.record_predictions([{"lead_id": "zed-7f3", "model": "sql", "probability": 0.4, "scored_at": utcnow()}])
    with store.session() as s, s.begin():
        store.resolve(s, user_id="zed-7f3", anonymous_id="anon-zed-91")  # merge
        lead = s.get(Lead, "zed-7f3")
        assert lead is not None
        lead.account_id = "zmail.test"
    feedback.touch(
        store,
        "zed-7f3",
        actor="dan",
        channel="call",
    )
    feedback.accept(store, "zed-7f3", actor="dan", note="Zebulon Quixote wants a call")
    feedback.set_consent(store, "zed-7f3", {"email": True}, actor="tests")
    revenue.save(store, revenue.OpportunityIn(id="opp-1", lead_id="zed-7f3", amount=12000, status="won"), actor="t")
    before = dump(store)
    assert all(mark in before for mark in MARKS)
    holding = {line.split(":", 1)[0] for line in before.splitlines() if any(mark in line for mark in MARKS)}
    assert {"messages", "predictions", "events", "identities", "scores", "leads"} <= holding
    other_before = [line for line in before.splitlines() if "other-1" in line and "webhook" not in line]

    result = erasure.erase(store, "anon:anon-zed-91", actor="dpo")  # any of the person's ids will do

    after = dump(store)
    for mark in MARKS:
        assert mark not in after, [line for line in after.splitlines() if mark in line]
    assert result["removed"]["leads"] == 2 and result["removed"]["events"] >= 8
    with store.session() as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "lead.erased"))
        assert entry.actor == "dpo" and entry.subject == result["erasure_id"]
    opp = revenue.get(store, "opp-1")
    assert opp is not None and opp["lead_id"] is None and opp["amount"] == 12000  # revenue stays
    assert [line for line in after.splitlines() if "other-1" in line and "webhook" not in line] == other_before
    with pytest.raises(NotFoundError):
        erasure.erase(store, "zed-7f3", actor="dpo")
