"""The background scorer, in a thread or in a process of its own, with account roll-ups: an event from one
person re-scores the colleagues of the same account, so a colleague whose account now qualifies becomes an
MQL too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from leadgate.service.ingest import ingest
from leadgate.service.scorer import LeadScorer, Scorer
from leadgate.service.scorer_process import ProcessScorer
from leadgate.store.models import Lead
from leadgate.store.store import Store
from tests.store.conftest import ABM


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    st.activate(st.push_definition(ABM.read_text(), author="tests").id, actor="tests")
    yield st
    st.engine.dispose()


def start(kind: str, store: Store) -> LeadScorer:
    return (Scorer(store) if kind == "thread" else ProcessScorer(store.url)).start()


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_an_event_from_one_person_qualifies_the_colleague(store: Store, kind: str) -> None:
    scorer = start(kind, store)
    try:
        setup = [
            {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g1"},
            {"type": "group", "userId": "u2", "groupId": "acme", "messageId": "g2"},
            *[
                {"type": "page", "userId": "u1", "properties": {"path": "/pricing"}, "messageId": f"p{i}"}
                for i in range(3)
            ],
        ]
        assert ingest(store, setup, scorer=scorer).accepted == 5
        assert scorer.wait_idle(10) and list(scorer.new_mqls) == []
        ingest(store, [{"type": "track", "userId": "u2", "event": "demo_requested", "messageId": "d1"}], scorer=scorer)
        assert scorer.wait_idle(10)
        assert sorted(scorer.new_mqls) == ["u1", "u2"] and not scorer.errors
    finally:
        scorer.stop()
    with store.session() as s:
        assert {lead.id: lead.stage for lead in s.scalars(select(Lead))} == {"u1": "mql", "u2": "mql"}
