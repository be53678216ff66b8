"""Account roll-ups in the store: scoring a lead scores its account's other leads too, and records them."""

from __future__ import annotations

from sqlalchemy import select

from leadgate.store.models import Score, StageChange
from leadgate.store.rollup import with_account_peers
from leadgate.store.store import Store
from tests.store.conftest import NOW, people, track


def test_peers_are_the_live_leads_of_the_same_accounts(abm_store: Store) -> None:
    people(abm_store, {"u1": "acme", "u2": "acme", "u3": "globex", "u4": None, "u5": "acme"})
    with abm_store.session() as s, s.begin():
        abm_store.merge(s, abm_store.find(s, "user_id", "u5"), abm_store.find(s, "user_id", "u2"), "tests", NOW)  # type: ignore[arg-type]
    with abm_store.session() as s:
        assert with_account_peers(s, ["u1"]) == ["u1", "u2"]  # u5 merged away
        assert with_account_peers(s, ["u3", "u4"]) == ["u3", "u4"]
        assert with_account_peers(s, []) == []


def test_one_persons_event_qualifies_a_colleagues_account_and_both_are_recorded(abm_store: Store) -> None:
    people(abm_store, {"u1": "acme", "u2": "acme", "u3": "globex"})
    track(abm_store, "u1", "a", [("page_view", {"path": "/pricing"})] * 3)
    first = abm_store.score(["u1"], as_of=NOW)
    assert first is not None and first.new_mqls == []
    assert [s.lead_id for s in first.scores] == ["u1", "u2"]  # the peer is scored with it; globex is not
    track(abm_store, "u2", "b", [("demo_requested", {})])
    out = abm_store.score(["u2"], as_of=NOW)  # only u2 had an event
    assert out is not None and out.new_mqls == ["u1", "u2"]
    by_id = {s.lead_id: s for s in out.scores}
    assert by_id["u1"].account is not None and by_id["u1"].account.engaged_leads == 2
    assert by_id["u1"].qualified_by == ["buying_group"]
    with abm_store.session() as s:
        changes = s.scalars(
            select(StageChange).where(StageChange.to_stage == "mql").order_by(StageChange.lead_id)
        ).all()
        assert [(c.lead_id, c.reason) for c in changes] == [
            ("u1", "qualified:buying_group"),
            ("u2", "qualified:buying_group"),
        ]
        recorded = s.get(Score, "u1")
        assert recorded is not None and recorded.explanation["account"]["account_id"] == "acme"
        assert s.get(Score, "u3") is None
