"""Lifecycle stages on SQLite and PostgreSQL: MQL moves with their type, no flapping, no automatic backward
moves, reactivation only on engagement after a recycle, auto-recycle by the timer, merges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadgate.errors import LeadgateError, LifecycleError
from leadgate.service import timers
from leadgate.store import feedback, lifecycle
from leadgate.store.clock import utcnow
from leadgate.store.models import DefinitionVersion, Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, SalesFeedback
from leadgate.store.store import Store
from tests.store.lifecycle_helpers import ROUTING, add_lead, ready


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready(store_url)
    yield st
    st.engine.dispose()


def changes(store: Store, lead_id: str) -> list[StageChange]:
    with store.session() as s:
        return list(s.scalars(select(StageChange).where(StageChange.lead_id == lead_id).order_by(StageChange.id)))


def stage(store: Store, lead_id: str) -> str:
    with store.session() as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None
        return lead.stage


def test_a_qualifying_lead_becomes_an_mql_with_type_score_and_version(store: Store) -> None:
    assert add_lead(store, "ann") == ["ann"]
    (mql,) = changes(store, "ann")
    with store.session() as s:
        version = s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active))
    assert (mql.from_stage, mql.to_stage, mql.cause, mql.actor) == ("subscriber", "mql", "score", "system")
    assert (mql.mql_type, mql.mql_basis, mql.mql_motion) == ("new", "intent", "product_led")
    assert mql.score == pytest.approx(105.0)
    assert mql.reason == "qualified:score"
    assert mql.definition_version_id == version
    assert mql.details["score"]["contributions"]["demo_request"]["points"] == 25


def test_engagement_below_the_threshold_makes_a_subscriber_a_lead_once(store: Store) -> None:
    assert add_lead(store, "bob", events=[("webinar_attended", {})]) == []
    assert add_lead(store, "bob", events=[("newsletter_subscribed", {})]) == []
    assert [(c.from_stage, c.to_stage, c.reason) for c in changes(store, "bob")] == [("subscriber", "lead", "engaged")]


def test_no_flapping_and_no_automatic_backward_move(store: Store) -> None:
    add_lead(store, "cy")
    store.score(["cy"])  # the same score again
    add_lead(store, "cy", events=[("newsletter_subscribed", {})])  # higher
    assert [c.to_stage for c in changes(store, "cy")] == ["mql"]
    # a falling score (careers page, unsubscribed: -45) does not un-MQL the lead
    add_lead(store, "cy", events=[("page_view", {"path": "/careers"}), ("unsubscribed", {})])
    with store.session() as s:
        from leadgate.store.models import Score

        score = s.get(Score, "cy")
        assert score is not None and not score.qualified
    assert stage(store, "cy") == "mql"
    assert [c.to_stage for c in changes(store, "cy")] == ["mql"]


def test_a_recycled_lead_requalifies_only_on_engagement_after_the_recycle(store: Store) -> None:
    start = utcnow() - timedelta(hours=2)
    add_lead(store, "dee", at=start)
    feedback.recycle(store, "dee", reason="not_now", actor="sam")
    assert stage(store, "dee") == "recycled"
    store.score(["dee"])  # still qualifies on old engagement: stays recycled
    assert stage(store, "dee") == "recycled"
    # an event that arrives now but happened before the recycle does not count
    add_lead(store, "dee", events=[("page_view", {"path": "/blog"})], at=start + timedelta(minutes=5))
    assert stage(store, "dee") == "recycled"
    # engagement after the recycle does: the lead is an MQL again, typed reactivated
    assert add_lead(store, "dee", events=[("page_view", {"path": "/pricing"})], at=utcnow() + timedelta(seconds=1)) == [
        "dee"
    ]
    last = changes(store, "dee")[-1]
    assert (last.from_stage, last.to_stage, last.mql_type, last.cause) == ("recycled", "mql", "reactivated", "score")


@pytest.mark.parametrize("back_to", ["lead", "subscriber"])
def test_an_explicit_move_back_below_mql_is_not_undone_by_the_next_score(store: Store, back_to: str) -> None:
    start = utcnow() - timedelta(hours=2)
    add_lead(store, "dax", at=start)
    feedback.accept(store, "dax", actor="sam")
    feedback.move(store, "dax", to=back_to, reason="data_fix", actor="ops")
    store.score(["dax"])  # still qualifies on the old engagement: the move stands
    assert stage(store, "dax") == back_to
    # an event that happened before the move (arriving now) neither qualifies the lead
    add_lead(store, "dax", events=[("webinar_attended", {})], at=start + timedelta(minutes=5))
    assert stage(store, "dax") == back_to
    # engagement after the move does: an MQL again, typed reactivated
    assert add_lead(store, "dax", events=[("page_view", {"path": "/pricing"})], at=utcnow() + timedelta(seconds=1)) == [
        "dax"
    ]
    assert [(c.to_stage, c.cause, c.mql_type) for c in changes(store, "dax")] == [
        ("mql", "score", "new"),
        ("sql", "feedback", None),
        (back_to, "api", None),
        ("mql", "score", "reactivated"),
    ]


def test_a_lead_moved_up_from_subscriber_qualifies_on_its_engagement_as_new(store: Store) -> None:
    add_lead(store, "abe", events=[("webinar_attended", {})], at=utcnow() - timedelta(hours=1))
    feedback.move(store, "abe", to="subscriber", reason="data_fix", actor="ops")  # lead → subscriber: no demotion
    assert add_lead(store, "abe", at=utcnow() - timedelta(minutes=30)) == ["abe"]
    assert changes(store, "abe")[-1].mql_type == "new"


def test_a_bot_event_after_recycling_does_not_reactivate(store: Store) -> None:
    from leadgate.store.store import IncomingEvent

    add_lead(store, "eve", at=utcnow() - timedelta(hours=1))
    feedback.recycle(store, "eve", reason="nurture", actor="sam")
    with store.session() as s, s.begin():
        store.record_events(
            s, [IncomingEvent("bot-1", "eve", "page_view", utcnow() + timedelta(seconds=1), {"path": "/"}, is_bot=True)]
        )
    store.score(["eve"])
    assert stage(store, "eve") == "recycled"


def test_a_disqualified_lead_never_requalifies_automatically(store: Store) -> None:
    add_lead(store, "fay", at=utcnow() - timedelta(hours=1))
    feedback.reject(store, "fay", reason="competitor", actor="sam", note="works at a rival")
    add_lead(store, "fay", events=[("demo_requested", {})], at=utcnow() + timedelta(seconds=1))
    assert stage(store, "fay") == "disqualified"
    last = changes(store, "fay")[-1]
    assert (last.to_stage, last.reason, last.cause, last.actor) == ("disqualified", "competitor", "feedback", "sam")


def test_feedback_checks_reasons_and_stages(store: Store) -> None:
    add_lead(store, "gus")
    with pytest.raises(LeadgateError, match="not a reject reason; expected one of not_a_fit"):
        feedback.reject(store, "gus", reason="meh", actor="sam")
    with pytest.raises(LeadgateError, match="needs a reason code"):
        feedback.recycle(store, "gus", reason="", actor="sam")
    outcome = feedback.accept(store, "gus", actor="sam")
    assert outcome.stage == "sql"
    with pytest.raises(LifecycleError, match="cannot accept lead 'gus': it is sql; expected mql"):
        feedback.accept(store, "gus", actor="sam")
    with pytest.raises(LifecycleError, match="already sql"):
        feedback.move(store, "gus", to="sql", reason="oops", actor="sam")
    moved = feedback.move(store, "gus", to="lead", reason="data_fix", actor="ops")
    assert moved.stage == "lead"
    with store.session() as s:
        rows = list(s.scalars(select(SalesFeedback).where(SalesFeedback.lead_id == "gus").order_by(SalesFeedback.id)))
    assert [(f.action, f.reason) for f in rows] == [("accept", None), ("move", "data_fix")]


def test_the_timer_recycles_mqls_not_accepted_in_time(store_url: str) -> None:
    store = ready(store_url, routing_text=ROUTING.replace("version: 1", "version: 2"))
    add_lead(store, "hal")
    add_lead(store, "ida")
    feedback.accept(store, "ida", actor="sam")
    assert timers.run_once(store, utcnow() + timedelta(days=13))["recycled"] == []
    done = timers.run_once(store, utcnow() + timedelta(days=14, minutes=1))
    assert done["recycled"] == ["hal"]
    assert stage(store, "hal") == "recycled" and stage(store, "ida") == "sql"
    last = changes(store, "hal")[-1]
    assert (last.reason, last.cause, last.actor) == ("not_accepted", "timer", "system")
    with store.session() as s:
        (a,) = s.scalars(select(Assignment).where(Assignment.lead_id == "hal"))
        assert (a.status, a.closed_reason) == ("closed", "recycled")
    store.engine.dispose()


def test_the_timer_breaches_slas_when_they_are_due(store: Store) -> None:
    add_lead(store, "jo")  # demo request: 5 minute SLA
    add_lead(store, "kim")
    feedback.touch(store, "kim", actor="dan", channel="call")
    assert timers.run_once(store, utcnow() + timedelta(minutes=4))["breached"] == []
    with store.session() as s:
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "jo")).one()
        assert a.sla_seconds == 300 and a.sla_due_at == a.assigned_at + timedelta(minutes=5)
    breached = timers.run_once(store, utcnow() + timedelta(minutes=6))["breached"]
    assert breached == [a.id]  # kim was touched in time
    assert timers.run_once(store, utcnow() + timedelta(minutes=7))["breached"] == []  # once only


def test_first_touch_records_speed_to_lead_once(store: Store) -> None:
    add_lead(store, "lee")
    first = feedback.touch(store, "lee", actor="dan", channel="call")
    again = feedback.touch(store, "lee", actor="dan", channel="email")
    assert first.speed_to_lead_seconds is not None and 0 <= first.speed_to_lead_seconds < 60
    assert first.sla_met is True  # within the demo route's 5 minutes
    assert (again.speed_to_lead_seconds, again.sla_met) == (first.speed_to_lead_seconds, True)
    with store.session() as s:
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "lee")).one()
        assert (a.status, a.first_touch_by, a.first_touch_channel) == ("touched", "dan", "call")
    with pytest.raises(LifecycleError, match="never an MQL"):
        add_lead(store, "mo", events=[])
        feedback.touch(store, "mo", actor="dan")


def test_a_first_touch_cannot_be_backdated_before_the_assignment_nor_be_in_the_future(store: Store) -> None:
    add_lead(store, "rex")  # demo request: assigned now with a 5 minute SLA
    with store.session() as s:
        assigned = s.scalars(select(Assignment).where(Assignment.lead_id == "rex")).one().assigned_at
    with pytest.raises(LeadgateError, match=r"at: 2020-01-01T00:00:00Z is before lead 'rex' was assigned \("):
        feedback.touch(store, "rex", actor="dan", at=datetime(2020, 1, 1))
    with pytest.raises(LeadgateError, match="is in the future"):
        feedback.touch(store, "rex", actor="dan", at=utcnow() + timedelta(minutes=5))
    with store.session() as s, s.begin():  # assigned ten minutes ago
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "rex")).one()
        a.assigned_at, a.sla_due_at = assigned - timedelta(minutes=10), assigned - timedelta(minutes=5)
        assigned = a.assigned_at
    late = feedback.touch(store, "rex", actor="dan", at=assigned + timedelta(minutes=7))  # touched late, logged now
    assert late.speed_to_lead_seconds == pytest.approx(420) and late.sla_met is False


def test_without_routing_a_first_touch_is_timed_from_the_mql_and_not_before_it(store_url: str) -> None:
    store = ready(store_url, routing_text=None)
    add_lead(store, "sid")
    with pytest.raises(LeadgateError, match="before lead 'sid' became an MQL"):
        feedback.touch(store, "sid", actor="dan", at=utcnow() - timedelta(days=1))
    skewed = feedback.touch(store, "sid", actor="dan", at=utcnow() + timedelta(seconds=30))  # clock skew: now
    assert skewed.sla_met is None and skewed.speed_to_lead_seconds is not None  # a manual assignment: no SLA
    store.engine.dispose()


def test_a_merge_carries_the_lifecycle_to_the_survivor(store: Store) -> None:
    add_lead(store, "ned", email="ned@acme.test")
    with store.session() as s, s.begin():
        anon = store.resolve(s, anonymous_id="visitor-1")
        anon_id = anon.id
    with store.session() as s, s.begin():  # the MQL identifies on another device: ned merges into it
        store.resolve(s, user_id="ned-2", anonymous_id="visitor-1")
    with store.session() as s, s.begin():
        survivor = store.resolve(s, user_id="ned-2", email="ned@acme.test")
        assert survivor.id == "ned-2"
    assert stage(store, "ned-2") == "mql"
    history = changes(store, "ned-2")
    assert [(c.to_stage, c.cause) for c in history] == [("mql", "score"), ("mql", "merge")]
    with store.session() as s:
        version = s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active))
    assert version is not None and history[1].definition_version_id == version
    with store.session() as s:
        assert s.scalars(select(Assignment).where(Assignment.lead_id == "ned-2")).one().owner is not None
        ned = s.get(Lead, "ned")
        assert ned is not None and ned.merged_into == "ned-2"
    assert anon_id == "anon:visitor-1"


def test_the_documented_automatic_moves_out_of_the_forward_order(store: Store) -> None:
    """docs/lifecycle.md, Guardrails: a deal moves a recycled or disqualified lead on; a merge gives a
    pre-MQL survivor the loser's recycled or disqualified; a survivor beside the order keeps its stage."""
    from leadgate.store import revenue

    add_lead(store, "rob")
    feedback.recycle(store, "rob", reason="not_now", actor="sam")
    revenue.save(store, revenue.OpportunityIn(id="d1", lead_id="rob", amount=10), actor="crm")
    assert changes(store, "rob")[-1].from_stage == "recycled" and stage(store, "rob") == "opportunity"
    add_lead(store, "ray")
    feedback.reject(store, "ray", reason="competitor", actor="sam")
    revenue.save(store, revenue.OpportunityIn(id="d2", lead_id="ray", amount=10, status="won"), actor="crm")
    assert [(c.from_stage, c.to_stage, c.cause) for c in changes(store, "ray")][-1] == (
        "disqualified",
        "customer",
        "opportunity",
    )
    revenue.save(store, revenue.OpportunityIn(id="d2", lead_id="ray", amount=10, status="open"), actor="crm")
    assert stage(store, "ray") == "customer"  # never back from customer
    add_lead(store, "rex", events=[("webinar_attended", {})], email="rex@acme.test")  # a lead, before mql
    add_lead(store, "rex-2", email="rex2@acme.test")
    feedback.reject(store, "rex-2", reason="spam", actor="sam")
    with store.session() as s, s.begin():
        store.resolve(s, user_id="rex", email="rex2@acme.test")  # rex-2 (disqualified) merges into rex
    last = changes(store, "rex")[-1]
    assert (last.from_stage, last.to_stage, last.cause) == ("lead", "disqualified", "merge")
    add_lead(store, "rex-3", email="rex3@acme.test")  # an MQL
    with store.session() as s, s.begin():
        store.resolve(s, user_id="rex", email="rex3@acme.test")
    assert stage(store, "rex") == "disqualified"  # beside the order: the MQL merged in does not move it


EVENT_NAMES = [
    "demo_requested",
    "trial_started",
    "webinar_attended",
    "page_view",
    "unsubscribed",
    "newsletter_subscribed",
]
OPS = st.one_of(
    st.tuples(st.just("events"), st.lists(st.sampled_from(EVENT_NAMES), min_size=1, max_size=4)),
    st.tuples(st.sampled_from(["accept", "reject", "recycle"]), st.just([])),
    st.tuples(st.just("timer"), st.just([])),
)


def test_automatic_moves_only_go_forward_whatever_happens(tmp_path: Path) -> None:
    """Property: under any sequence of engagement, feedback and timer passes, automatic moves (cause score or
    timer) go forward, except reactivation (recycled → mql, typed reactivated, after new engagement) and the
    timer's recycle of an MQL; the lead's stage is always its last recorded move; no MQL twice in a row."""
    store = ready(f"sqlite:///{tmp_path / 'prop.db'}")
    counter = iter(range(10_000))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(OPS, min_size=1, max_size=6))
    def run(ops: list[tuple[str, list[str]]]) -> None:
        lead_id = f"p{next(counter)}"
        clock = utcnow() - timedelta(days=30)
        add_lead(store, lead_id, events=[("page_view", {"path": "/pricing"})], at=clock)
        for op, names in ops:
            clock += timedelta(minutes=10)
            try:
                if op == "events":
                    add_lead(store, lead_id, events=[(n, {}) for n in names], at=clock)
                elif op == "timer":
                    timers.run_once(store, utcnow() + timedelta(days=15))
                else:
                    getattr(feedback, op)(
                        store, lead_id, actor="prop", **({} if op == "accept" else {"reason": "other"})
                    )
            except LifecycleError:
                pass
        history = changes(store, lead_id)
        assert stage(store, lead_id) == (history[-1].to_stage if history else "subscriber")
        for before, after in zip([None, *history], history, strict=False):
            assert before is None or before.to_stage == after.from_stage
            if after.cause in ("score", "timer"):
                sideways = (after.from_stage, after.to_stage) in {("recycled", "mql"), ("mql", "recycled")}
                assert lifecycle.ahead(after.to_stage, after.from_stage or "subscriber") or sideways, after
                if (after.from_stage, after.to_stage) == ("recycled", "mql"):
                    assert after.mql_type == "reactivated"
                if after.to_stage == "recycled":
                    assert after.cause == "timer" and after.reason == "not_accepted"

    run()
    store.engine.dispose()
