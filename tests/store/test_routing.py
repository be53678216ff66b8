"""Routing: first matching route wins, round-robin and least-loaded owners, queues, SLAs, consent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.definition.routing import parse_routing
from leadgate.store import feedback, lifecycle, outbox, routing
from leadgate.store.clock import utcnow
from leadgate.store.models import Lead
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, OutboxEvent, WebhookDelivery
from leadgate.store.store import Store
from tests.conftest import EXAMPLES
from tests.store.lifecycle_helpers import QUALIFYING, add_lead, ready

RULES = """
schema: 1
name: test
version: 1
teams:
  ae: {members: [carol, dan], assign: least_loaded}
  sdr: {members: [alice, bob, cy], assign: round_robin}
  queue: {members: []}
routes:
  - name: germany
    when: {country: [DE]}
    team: queue
  - name: enterprise_fit
    when: {grade: [A], segment: [enterprise]}
    team: ae
    sla: 4h
  - name: trial_users
    when: {signal: [free_trial], traits: {plan: [pro]}}
    team: ae
    sla: 1h
  - name: default
    team: sdr
    sla: 24h
"""

FACTS = {
    "grade": "C",
    "fit": 15.0,
    "total": 105.0,
    "mql_type": ["new", "intent", "product_led"],
    "signal": ["demo_request", "free_trial"],
    "source": "google",
    "medium": "cpc",
    "campaign": None,
    "channel": "paid_search",
    "country": "US",
    "segment": None,
    "traits": {"plan": "free"},
    "account_traits": {},
}


def test_routes_match_in_order() -> None:
    rules = parse_routing(RULES)

    def route(**changes: object) -> str | None:
        chosen = routing.choose(rules, {**FACTS, **changes})
        return None if chosen is None else chosen.name

    assert route() == "default"
    assert route(country="de") == "germany"  # values compare without case
    assert route(grade="A", segment="Enterprise") == "enterprise_fit"
    assert route(grade="B", segment="enterprise") == "default"
    assert route(traits={"plan": "pro"}) == "trial_users"
    assert route(traits={"plan": "pro"}, signal=["demo_request"]) == "default"
    only_demo = parse_routing(RULES.replace("  - name: default\n    team: sdr\n    sla: 24h\n", ""))
    assert routing.choose(only_demo, FACTS) is None
    min_fit = parse_routing(
        "schema: 1\nname: t\nversion: 1\nteams: {a: {}}\nroutes:\n  - {name: x, team: a, when: {min_fit: 15}}\n"
    )
    assert routing.choose(min_fit, FACTS) is not None
    assert routing.choose(min_fit, {**FACTS, "fit": 14.5}) is None


TOUCH_RULES = """
schema: 1
name: touch
version: 1
teams:
  ae: {members: [carol]}
  sdr: {members: [alice]}
  partners: {members: [pat]}
  comeback: {members: [rita]}
  plg: {members: [paul]}
routes:
  - name: requalified
    when: {mql_type: [reactivated]}
    team: comeback
    sla: 2h
  - name: spring_newsletter
    when: {source: [newsletter], campaign: [spring]}
    team: ae
  - name: paid
    when: {channel: [paid_search]}
    team: partners
  - name: product_led_fit
    when: {mql_type: [product_led], medium: [referral]}
    team: plg
  - name: default
    team: sdr
"""


def test_routes_on_source_campaign_channel_and_mql_type() -> None:
    rules = parse_routing(TOUCH_RULES)

    def route(**changes: object) -> str | None:
        chosen = routing.choose(rules, {**FACTS, **changes})
        return None if chosen is None else chosen.name

    assert route() == "paid"  # channel paid_search
    assert route(channel="email") == "default"
    assert route(source="Newsletter", campaign="spring", channel="email") == "spring_newsletter"
    assert route(source="newsletter", campaign="autumn", channel="email") == "default"  # both must hold
    assert route(source="newsletter", campaign=None, channel="email") == "default"
    assert route(mql_type=["reactivated", "intent", "product_led"]) == "requalified"  # before everything else
    assert route(mql_type=["new", "fit", "product_led"], channel=None, medium="referral") == "product_led_fit"
    assert route(mql_type=["new", "fit", "sales_led"], channel=None, medium="referral") == "default"


def test_the_docs_quote_the_example_routing_file_which_routes_as_they_say() -> None:
    text = (EXAMPLES / "routing" / "default.yaml").read_text()
    docs = (EXAMPLES.parent / "docs" / "lifecycle.md").read_text()
    quoted = docs.split("Example (`examples/routing/default.yaml`):\n\n```yaml\n", 1)[1].split("```\n", 1)[0]
    assert quoted == text
    example = parse_routing(text)

    def route(**changes: object) -> str | None:
        chosen = routing.choose(example, {**FACTS, **changes})
        return None if chosen is None else chosen.name

    assert route() == "demo_request"
    enterprise = {"signal": ["free_trial"], "grade": "A", "segment": "Enterprise", "country": "DE"}
    assert route(**enterprise) == "enterprise"
    assert route(**{**enterprise, "country": "FR"}) == "product_led"  # FACTS' MQL is product-led
    assert route(**{**enterprise, "country": "FR", "mql_type": ["new", "fit", "sales_led"]}) == "default"


def utm(source: str, medium: str, campaign: str | None = None) -> tuple[str, dict[str, object]]:
    query = f"utm_source={source}&utm_medium={medium}" + (f"&utm_campaign={campaign}" if campaign else "")
    return ("page_view", {"path": "/", "url": f"https://acme.test/?{query}"})


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready(store_url, routing_text=RULES)
    yield st
    st.engine.dispose()


def owners(store: Store) -> list[tuple[str, str | None, str]]:
    with store.session() as s:
        return [(a.lead_id, a.owner, a.route) for a in s.scalars(select(Assignment).order_by(Assignment.id))]


def test_round_robin_takes_turns_across_transactions(store: Store) -> None:
    for name in ("l1", "l2", "l3", "l4"):
        add_lead(store, name)
    assert owners(store) == [
        ("l1", "alice", "default"),
        ("l2", "bob", "default"),
        ("l3", "cy", "default"),
        ("l4", "alice", "default"),
    ]


def test_least_loaded_counts_untouched_open_assignments(store: Store) -> None:
    trial = {"plan": "pro"}
    add_lead(store, "t1", traits=trial)
    add_lead(store, "t2", traits=trial)
    add_lead(store, "t3", traits=trial)  # carol 2, dan 1 open
    feedback.touch(store, "t1", actor="carol")  # carol: 1 open (t3), dan: 1 open (t2)
    feedback.touch(store, "t2", actor="dan")  # dan: 0 open
    add_lead(store, "t4", traits=trial)
    assert [o for _, o, _ in owners(store)] == ["carol", "dan", "carol", "dan"]
    with store.session() as s:
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "t4")).one()
        assert a.method == "least_loaded" and a.sla_seconds == 3600


def test_a_queue_has_no_owner(store: Store) -> None:
    add_lead(store, "q1", traits={"country": "DE"})
    assert owners(store) == [("q1", None, "germany")]


def test_a_lead_that_refused_sales_contact_is_not_routed(store: Store) -> None:
    add_lead(store, "nc", events=[("webinar_attended", {})])
    feedback.set_consent(store, "nc", {"sales_contact": False}, actor="tests")
    add_lead(store, "nc")
    with store.session() as s:
        assert s.scalars(select(Assignment).where(Assignment.lead_id == "nc")).first() is None
    add_lead(store, "ok")
    feedback.set_consent(store, "ok", {"sales_contact": "denied"}, actor="tests")
    with store.session() as s:
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "ok")).one()
        assert (a.status, a.closed_reason) == ("closed", "consent_withdrawn")


def test_a_refusal_merged_in_closes_assignments_and_cancels_deliveries_like_a_withdrawal(store: Store) -> None:
    with store.session() as s, s.begin():
        respectful = outbox.subscribe(s, name="crm", url="http://127.0.0.1:9/a", event_types=["*"], now=utcnow()).id
    add_lead(store, "vic")  # an MQL with an open assignment and pending deliveries
    add_lead(store, "vic-work", events=[("webinar_attended", {})], email="vic@work.test")
    feedback.set_consent(store, "vic-work", {"sales_contact": False, "email": True}, actor="tests")
    with store.session() as s, s.begin():
        store.resolve(s, user_id="vic", email="vic@work.test")  # one person: vic-work merges into vic
    with store.session() as s:
        a = s.scalars(select(Assignment).where(Assignment.lead_id == "vic")).one()
        assert (a.status, a.closed_reason) == ("closed", "consent_withdrawn")
        pending = s.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "pending")).all()
        # only the announcements remain: vic-work's refusal, and vic's consent changed by the merge
        assert {(d.lead_id, d.subscription_id) for d in pending} == {("vic", respectful), ("vic-work", respectful)}
        (changed,) = s.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "consent.changed",
                                                         OutboxEvent.lead_id == "vic"))  # fmt: skip
        data = changed.payload["data"]
        assert (data["source"], data["consent"]) == ("merge", {"email": True, "sms": None, "sales_contact": False})
        cancelled = s.scalars(select(WebhookDelivery.lead_id).where(WebhookDelivery.status == "cancelled")).all()
        assert {"vic", "vic-work"} <= set(cancelled)
    assert feedback.history(store, "vic")["consent"]["sales_contact"] is False
    # the other way round: the survivor had refused, the lead merged into it has deliveries pending
    add_lead(store, "ula", events=[("webinar_attended", {})])
    feedback.set_consent(store, "ula", {"sales_contact": False}, actor="tests")
    add_lead(store, "ula-work", email="ula@work.test")  # an MQL: assigned, deliveries pending
    with store.session() as s, s.begin():
        store.resolve(s, user_id="ula", email="ula@work.test")
    with store.session() as s:
        rows = s.execute(
            select(OutboxEvent.event_type, WebhookDelivery.status)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
            .where(WebhookDelivery.lead_id == "ula-work")
        ).all()
        assert {status for kind, status in rows if kind != "consent.changed"} == {"cancelled"}
        assert {a.status for a in s.scalars(select(Assignment).where(Assignment.lead_id == "ula"))} == {"closed"}


def test_push_refuses_a_version_already_stored(store: Store) -> None:
    from leadgate.errors import LeadgateError

    with pytest.raises(LeadgateError, match="already stored as #1"):
        routing.push_file(store, RULES, author="tests")
    pushed = routing.push_file(store, RULES.replace("version: 1", "version: 2"), author="tests")
    assert pushed["active"] is False
    assert routing.describe(store)["version"] == "1"
    routing.activate_version(store, pushed["id"], actor="tests")
    assert routing.describe(store)["version"] == "2"


def test_routing_reads_the_first_touch_the_store_keeps(store_url: str) -> None:
    store = ready(store_url, routing_text=TOUCH_RULES)
    start = utcnow() - timedelta(hours=2)
    add_lead(store, "nl", events=[utm("newsletter", "email", "spring"), *QUALIFYING], at=start)
    add_lead(store, "gg", events=[utm("google", "cpc"), *QUALIFYING], at=start)
    add_lead(store, "fall", events=[utm("newsletter", "email", "autumn"), *QUALIFYING], at=start)
    add_lead(store, "dd", at=start)  # no campaign data: direct
    assert [(lead, route, owner) for lead, owner, route in owners(store)] == [
        ("nl", "spring_newsletter", "carol"),
        ("gg", "paid", "pat"),
        ("fall", "default", "alice"),
        ("dd", "default", "alice"),
    ]
    with store.session() as s:
        for lead_id in ("nl", "gg", "dd"):
            lead = s.get(Lead, lead_id)
            touch = s.get(LeadAttribution, lead_id)
            assert lead is not None and touch is not None
            f = routing.facts(s, lead, {}, "new")
            stored = (touch.source, touch.medium, touch.campaign, touch.channel)
            assert (f["source"], f["medium"], f["campaign"], f["channel"]) == stored
        assert s.get(LeadAttribution, "nl").campaign == "spring"  # type: ignore[union-attr]
        assert s.get(LeadAttribution, "gg").channel == "paid_search"  # type: ignore[union-attr]
    # recycled, then engaged again: a reactivated MQL takes the route for reactivated MQLs
    feedback.recycle(store, "nl", reason="not_now", actor="carol")
    assert add_lead(store, "nl", events=[("demo_requested", {})], at=utcnow() + timedelta(seconds=1)) == ["nl"]
    with store.session() as s:
        last = s.scalars(select(Assignment).where(Assignment.lead_id == "nl").order_by(Assignment.id.desc())).first()
        assert last is not None and (last.route, last.owner, last.sla_seconds) == ("requalified", "rita", 7200)
    store.engine.dispose()


LEAST_LOADED = """
schema: 1
name: least
version: 1
teams: {ae: {members: [carol, dan], assign: least_loaded}}
routes: [{name: all, team: ae, sla: 1h}]
"""


def test_two_mqls_at_once_go_to_two_people_under_least_loaded(store_url: str) -> None:
    """The second transaction waits for the first's lock on the team, then sees its assignment (without the
    lock it would count the load before the first commits and pick the same person)."""
    store = ready(store_url, routing_text=LEAST_LOADED)
    for name in ("c1", "c2"):
        add_lead(store, name, events=[("webinar_attended", {})])  # leads, not MQLs
    picked: dict[str, str | None] = {}

    def qualify(s: Session, lead_id: str) -> None:
        lead = s.get(Lead, lead_id)
        assert lead is not None
        row = lifecycle.change(s, lead, "mql", reason="test", actor="t", cause="score", now=utcnow(), mql={})
        picked[lead_id] = s.scalars(select(Assignment.owner).where(Assignment.stage_change_id == row.id)).one()

    def second() -> None:
        with store.session() as s, s.begin():
            qualify(s, "c2")

    with store.session() as s, s.begin():
        qualify(s, "c1")
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second MQL was routed while the first held the team"
    other.join(10)
    assert picked == {"c1": "carol", "c2": "dan"}
    store.engine.dispose()
