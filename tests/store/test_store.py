"""The store on SQLite (default suite) and PostgreSQL (postgres suite): migrations, identity, idempotent
events, and live scores equal to batch scores of the same data at the same instant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from sqlalchemy import inspect, select

import leadgate
from leadgate.inputs.dataset import TS_TYPE, Dataset
from leadgate.store.models import AuditEntry, Event, Lead, Score, ScoreHistory, StageChange
from leadgate.store.store import IncomingEvent, Store, to_micros, utcnow
from tests.conftest import EXAMPLES

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = _ready(store_url)
    yield st
    st.engine.dispose()


def _ready(url: str) -> Store:
    st = Store(url)
    st.upgrade()
    v = st.push_definition((EXAMPLES / "classic.yaml").read_text(), author="tests")
    st.activate(v.id, actor="tests")
    return st


def events_for(lead_id: str, prefix: str, names: list[tuple[str, dict[str, object], timedelta]]) -> list[IncomingEvent]:
    return [
        IncomingEvent(message_id=f"{prefix}{i}", lead_id=lead_id, event=name, ts=NOW - ago, properties=props)
        for i, (name, props, ago) in enumerate(names)
    ]


def test_migrations_create_every_table(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "leads",
        "identities",
        "accounts",
        "events",
        "definition_versions",
        "scores",
        "score_history",
        "stage_changes",
        "rejected",
        "api_keys",
        "audit_log",
    } <= tables
    if store.dialect == "sqlite":
        with store.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_events_are_idempotent_by_message_id(store: Store) -> None:
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u1", at=NOW)
        batch = events_for(lead.id, "m", [("page_view", {"path": "/pricing"}, timedelta(hours=1))] * 3)
        assert len(store.record_events(s, batch)) == 3
    with store.session() as s, s.begin():
        assert store.record_events(s, batch) == []
    with store.session() as s:
        assert len(s.scalars(select(Event)).all()) == 3


def test_anonymous_history_joins_the_known_lead_once(store: Store) -> None:
    with store.session() as s, s.begin():
        anon = store.resolve(s, anonymous_id="visitor-1", at=NOW - timedelta(days=2))
        store.record_events(s, events_for(anon.id, "a", [("page_view", {"path": "/pricing"}, timedelta(days=1))] * 3))
    with store.session() as s, s.begin():
        known = store.resolve(s, user_id="u1", anonymous_id="visitor-1", email="Ann@Acme.io", at=NOW)
        store.set_email(known, "Ann@Acme.io")
    with store.session() as s:
        assert s.get(Lead, "anon:visitor-1").merged_into == "u1"  # type: ignore[union-attr]
        assert {e.lead_id for e in s.scalars(select(Event))} == {"u1"}
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "lead.merged")).one().details == {
            "merged": "anon:visitor-1",
            "into": "u1",
        }
        u1 = s.get(Lead, "u1")
        assert u1 is not None and u1.email_domain == "acme.io"
        assert u1.created_us == to_micros(NOW - timedelta(days=2))  # the person existed since the first visit
    out = store.score(["u1"], as_of=NOW)
    assert out is not None and out.scores[0].contributions["pricing_3x"].count == 3


def test_duplicate_leads_by_email_merge(store: Store) -> None:
    with store.session() as s, s.begin():
        store.resolve(s, user_id="crm-1", email="bob@example.com", at=NOW)
    with store.session() as s, s.begin():
        lead = store.resolve(s, anonymous_id="v9", email="BOB@example.com ", at=NOW)
        assert lead.id == "crm-1"


def test_new_mql_is_recorded_with_version_and_explanation(store: Store) -> None:
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u7", at=NOW - timedelta(days=3))
        lead.traits = {"title": "VP Sales"}
        store.record_events(s, events_for(lead.id, "x", [
            ("demo_requested", {}, timedelta(hours=2)), ("trial_started", {}, timedelta(hours=1)),
            ("webinar_attended", {}, timedelta(days=1)), ("content_downloaded", {"asset_type": "case_study"},
                                                          timedelta(days=1)),
            ("newsletter_subscribed", {}, timedelta(days=2)),
            *[("page_view", {"path": "/pricing"}, timedelta(days=d)) for d in (1, 2, 3)],
        ]))  # fmt: skip
    out = store.score(["u7"], as_of=NOW)
    assert out is not None and out.new_mqls == ["u7"]
    again = store.score(["u7"], as_of=NOW)
    assert again is not None and again.new_mqls == []  # no flapping: already an MQL
    with store.session() as s:
        change = s.scalars(select(StageChange)).one()
        assert (change.from_stage, change.to_stage, change.definition_version_id) == ("subscriber", "mql", 1)
        score = s.get(Score, "u7")
        assert score is not None and score.qualified and score.explanation["total"] == score.total


def test_a_trait_of_the_wrong_json_type_reads_as_missing(store: Store) -> None:
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u8", at=NOW)
        lead.traits = {"title": 42}
    out = store.score(["u8"], as_of=NOW)
    assert out is not None and out.scores[0].contributions["senior_title"].count == 0


def test_live_score_equals_batch_score_of_the_same_data(store: Store) -> None:
    rows = [
        (
            "L1",
            "VP Sales",
            [
                ("demo_requested", None, 3.5),
                ("page_view", "/pricing", 1.25),
                ("page_view", "/pricing/teams", 2.0),
                ("page_view", "/pricing", 29.9),
            ],
        ),
        ("L2", "Student", [("page_view", "/careers", 0.5), ("unsubscribed", None, 10.0)]),
        ("L3", None, []),
    ]
    with store.session() as s, s.begin():
        for lead_id, title, evs in rows:
            lead = store.resolve(s, user_id=lead_id, at=NOW - timedelta(days=60))
            lead.traits = {"title": title} if title else {}
            store.record_events(
                s,
                [
                    IncomingEvent(
                        message_id=f"{lead_id}-{i}",
                        lead_id=lead_id,
                        event=name,
                        ts=NOW - timedelta(days=days),
                        properties={"path": path} if path else {},
                    )
                    for i, (name, path, days) in enumerate(evs)
                ],
            )
    live = store.score(None, as_of=NOW)
    assert live is not None
    ev = [
        (lead_id, name, to_micros(NOW - timedelta(days=days)), path)
        for lead_id, _, evs in rows
        for name, path, days in evs
    ]
    data = Dataset(
        leads=pa.table({"lead_id": [r[0] for r in rows], "email": pa.nulls(3, pa.string()),
                        "email_domain": pa.nulls(3, pa.string()), "account_id": pa.nulls(3, pa.string()),
                        "created_at": pa.array([to_micros(NOW - timedelta(days=60))] * 3, pa.int64()).cast(TS_TYPE),
                        "title": [r[1] for r in rows]}),
        events=pa.table({"lead_id": [e[0] for e in ev], "event": [e[1] for e in ev],
                         "ts": pa.array([e[2] for e in ev], pa.int64()).cast(TS_TYPE), "path": [e[3] for e in ev]}),
    )  # fmt: skip
    batch = leadgate.score(EXAMPLES / "classic.yaml", data=data, as_of=NOW.isoformat(), engine="duckdb")
    assert [x.to_dict() for x in live.scores] == [x.to_dict() for x in batch.scores]


def test_status_counts(store: Store) -> None:
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u1", at=NOW)
        store.record_events(s, events_for(lead.id, "s", [("page_view", {}, timedelta(0))]))
        store.reject(s, "segment", {"type": "track"}, ["event: missing"])
    status = store.status()
    assert (status["leads"], status["events"], status["rejected"]) == (1, 1, 1)
    assert status["active_definition"]["name"] == "classic"


def test_a_user_id_merged_by_email_keeps_resolving_to_the_survivor(store: Store) -> None:
    with store.session() as s, s.begin():
        store.resolve(s, user_id="crm-1", email="ann@acme.io", at=NOW)
    with store.session() as s, s.begin():  # a second user id with the same address: one person
        assert store.resolve(s, user_id="crm-2", email="ann@acme.io", at=NOW).id == "crm-2"
    with store.session() as s, s.begin():  # the first id again: its events go to the survivor, no cycle
        assert store.resolve(s, user_id="crm-1", at=NOW).id == "crm-2"
    with store.session() as s:
        assert s.get(Lead, "crm-1").merged_into == "crm-2"  # type: ignore[union-attr]
        assert s.get(Lead, "crm-2").merged_into is None  # type: ignore[union-attr]


#: demo 25 + trial 30 + webinar 10 + case study 10 + pricing x3 15 = 90 engagement: an MQL with a senior title
QUALIFYING = [
    ("demo_requested", {}, timedelta(hours=3)), ("trial_started", {}, timedelta(hours=2)),
    ("webinar_attended", {}, timedelta(days=1)), ("content_downloaded", {"asset_type": "case_study"},
                                                  timedelta(days=1)),
    *[("page_view", {"path": "/pricing"}, timedelta(days=d)) for d in (1, 2, 3)],
]  # fmt: skip


def test_a_merged_lead_keeps_no_score_and_counts_once_in_status(store: Store) -> None:
    """An anonymous visitor qualifies, then identifies: one MQL and one lead qualified now, not two; the
    merged lead shows no score of its own (its history stays in score_history)."""
    with store.session() as s, s.begin():
        anon = store.resolve(s, anonymous_id="v-mql", at=NOW - timedelta(days=4))
        anon.traits = {"title": "VP Sales"}
        store.record_events(s, events_for(anon.id, "q", QUALIFYING))
    first = store.score(None, as_of=NOW)
    assert first is not None and first.new_mqls == ["anon:v-mql"]
    with store.session() as s, s.begin():
        assert store.resolve(s, user_id="u-mql", anonymous_id="v-mql", at=NOW).id == "u-mql"
    with store.session() as s:
        assert s.get(Score, "anon:v-mql") is None
        assert s.get(Lead, "u-mql").stage == "mql"  # type: ignore[union-attr]
    again = store.score(None, as_of=NOW)
    assert again is not None and again.new_mqls == [] and [x.lead_id for x in again.scores] == ["u-mql"]
    status = store.status()
    assert (status["leads"], status["merged_leads"], status["mqls"], status["qualified_now"]) == (1, 1, 1, 1)


def test_activating_a_version_rescores_everyone(store: Store) -> None:
    """A library caller of ``Store.activate`` gets the re-scoring the CLI and the API get: a lead below the
    old threshold and above the new one becomes an MQL at once, under the new version."""
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u85", at=utcnow() - timedelta(days=3))
        lead.traits = {"title": "VP Sales"}
        recent = [(name, props, ago) for name, props, ago in QUALIFYING if name != "page_view"]
        store.record_events(s, events_for(lead.id, "e", recent))  # 15 + 75 = 90: not at 100
        for e in s.scalars(select(Event)):  # as of now, not the tests' fixed instant
            e.ts, e.ts_us = utcnow() - timedelta(hours=1), to_micros(utcnow() - timedelta(hours=1))
    store.score(None)
    with store.session() as s:
        assert s.get(Lead, "u85").stage != "mql"  # type: ignore[union-attr]
    lower = (EXAMPLES / "classic.yaml").read_text().replace("threshold: 100", "threshold: 80")
    v2 = store.push_definition(lower.replace("version: 1", "version: 2"), author="tests")
    version, outcome = store.activate_and_rescore(v2.id, actor="ann")
    assert version.active and outcome is not None and outcome.new_mqls == ["u85"]
    assert outcome.definition_version == v2.id
    v3 = store.push_definition(lower.replace("version: 1", "version: 3"), author="tests")
    store.activate(v3.id, actor="ann")  # the plain call re-scores too
    with store.session() as s:
        score = s.get(Score, "u85")
        assert score is not None and score.definition_version_id == v3.id
    v4 = store.push_definition(lower.replace("version: 1", "version: 4"), author="tests")
    store.activate(v4.id, actor="ann", rescore=False)
    with store.session() as s:
        assert s.get(Score, "u85").definition_version_id == v3.id  # type: ignore[union-attr]


def test_time_moves_scores_when_everyone_is_rescored(store: Store) -> None:
    """Windows close: pricing pages 3x within 30 days count, and stop counting when re-scored 30 days on."""
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id="u-late", at=NOW - timedelta(days=10))
        store.record_events(s, events_for(lead.id, "w", [("page_view", {"path": "/pricing"}, timedelta(days=d))
                                                         for d in (1, 2, 3)]))  # fmt: skip
    now = store.score(None, as_of=NOW)
    later = store.score(None, as_of=NOW + timedelta(days=29, hours=12))
    assert now is not None and later is not None
    assert (now.scores[0].engagement, later.scores[0].engagement) == (15, 0)
    with store.session() as s:
        score = s.get(Score, "u-late")
        assert score is not None and score.total == 0
        history = list(s.scalars(select(ScoreHistory.total).where(ScoreHistory.lead_id == "u-late")))
        assert history == [15, 0]
