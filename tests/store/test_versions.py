"""Definition versions in the store: every score, score-history row and MQL names the version that made
it; versions are listed with their counts and found by id, NAME@VERSION, name or 'active'."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leadgate.errors import LeadgateError
from leadgate.store.models import Score, ScoreHistory, StageChange
from leadgate.store.store import IncomingEvent, Store
from leadgate.store.versions import find_version, list_versions, resolve, version_definition
from tests.conftest import EXAMPLES

NOW = datetime(2026, 11, 1, 12, 0, 0)
CLASSIC = (EXAMPLES / "classic.yaml").read_text()
CLASSIC_80 = CLASSIC.replace("version: 1", "version: 2").replace("threshold: 100", "threshold: 80")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    yield st
    st.engine.dispose()


def lead_with(store: Store, lead_id: str, events: list[tuple[str, dict[str, object]]]) -> None:
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id=lead_id, at=NOW - timedelta(days=5))
        lead.traits = {"title": "VP Sales"}
        store.record_events(
            s,
            [
                IncomingEvent(f"{lead_id}-{i}", lead_id, name, NOW - timedelta(hours=i + 1), props)
                for i, (name, props) in enumerate(events)
            ],
        )


#: senior title 15 + demo 25 + trial 30 + webinar 10 + newsletter 5 = 85: an MQL at 80, not at 100.
EIGHTY_FIVE = [("demo_requested", {}), ("trial_started", {}), ("webinar_attended", {}), ("newsletter_subscribed", {})]
PRICING_3X = [("page_view", {"path": "/pricing"})] * 3  # + 15


def test_every_score_and_mql_records_its_version(store: Store) -> None:
    v1 = store.push_definition(CLASSIC, author="ann")
    store.activate(v1.id, actor="ann")
    lead_with(store, "u1", EIGHTY_FIVE)
    lead_with(store, "u2", EIGHTY_FIVE + PRICING_3X)
    first = store.score(None, as_of=NOW)
    assert first is not None and first.new_mqls == ["u2"] and first.definition_version == v1.id
    v2 = store.push_definition(CLASSIC_80, author="bob")
    store.activate(v2.id, actor="bob", rescore=False)  # scored below at a fixed instant
    second = store.score(None, as_of=NOW + timedelta(minutes=1))
    assert second is not None and second.new_mqls == ["u1"] and second.definition_version == v2.id
    with store.session() as s:
        assert {sc.lead_id: sc.definition_version_id for sc in s.scalars(select(Score))} == {"u1": v2.id, "u2": v2.id}
        changes = {c.lead_id: c.definition_version_id for c in s.scalars(select(StageChange))}
        assert changes == {"u2": v1.id, "u1": v2.id}
        history = {(h.lead_id, h.definition_version_id) for h in s.scalars(select(ScoreHistory))}
        assert {("u1", v1.id), ("u2", v1.id)} <= history
    listed = {v.id: v for v in list_versions(store)}
    assert (listed[v1.id].author, listed[v1.id].active, listed[v1.id].scored, listed[v1.id].mqls) == (
        "ann",
        False,
        0,
        1,
    )
    assert (listed[v2.id].author, listed[v2.id].active, listed[v2.id].scored, listed[v2.id].mqls) == ("bob", True, 2, 1)
    assert listed[v2.id].to_dict()["created_at"].endswith("Z")


def test_versions_are_found_by_reference(store: Store) -> None:
    v1 = store.push_definition(CLASSIC, author="ann")
    v2 = store.push_definition(CLASSIC_80, author="ann")
    store.activate(v1.id, actor="ann")
    for ref, expected in [(str(v1.id), v1.id), (f"#{v2.id}", v2.id), ("classic@2", v2.id), ("classic", v2.id),
                          ("active", v1.id), (v2.id, v2.id)]:  # fmt: skip
        assert find_version(store, ref).id == expected, ref
    assert version_definition(find_version(store, "classic@2")).qualify.threshold == 80
    for missing in ("99", "classic@7", "nope"):
        with pytest.raises(LeadgateError, match="no stored definition version"):
            find_version(store, missing)


def test_resolve_reads_files_first_then_the_store(store: Store, tmp_path: Path) -> None:
    store.push_definition(CLASSIC_80, author="ann")
    defn, label = resolve(str(EXAMPLES / "classic.yaml"), store.url)
    assert defn.qualify.threshold == 100 and label.endswith("classic.yaml")
    defn, label = resolve("classic@2", store.url)
    assert defn.qualify.threshold == 80 and label == "#1 classic@2"
    with pytest.raises(LeadgateError, match="no such database"):
        resolve("classic@2", f"sqlite:///{tmp_path / 'absent.db'}")
    assert not (tmp_path / "absent.db").exists()
