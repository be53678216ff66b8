"""Webhooks end to end: the real server, the real Segment client, a real HTTP receiver on loopback.
Signatures are checked with the ``standardwebhooks`` library (not our own code); order per lead, exactly
one arrival per id when the receiver was down, SLA breaches emitted by the timer with no further event."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import standardwebhooks
from segment.analytics import Client

from leadgate.service.receiver import WebhookReceiver, verify
from leadgate.service.webhooks import sign
from leadgate.store import routing, subscriptions
from tests.conftest import EXAMPLES
from tests.service.conftest import Server

FAST_SLA = (
    (EXAMPLES / "routing" / "default.yaml")
    .read_text()
    .replace("sla: 5m", "sla: 1s")
    .replace("version: 1", "version: 9")
)


def test_signatures_agree_with_the_standard_webhooks_library() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"mql.created","data":{"lead":{"id":"u1"}}}'
    now = int(time.time())
    ours = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": sign(secret, "msg_1", now, body)}
    standardwebhooks.Webhook(secret).verify(body, ours)  # raises if ours is wrong
    theirs = standardwebhooks.Webhook(secret).sign("msg_2", datetime.fromtimestamp(now, UTC), body.decode())
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(now), "webhook-signature": theirs}
    assert verify(secret, headers, body)
    assert not verify(secret, {**headers, "webhook-id": "msg_3"}, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, {**headers, "webhook-timestamp": str(now - 600)}, body)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def hooked(server: Server, receiver: WebhookReceiver, routing_text: str | None = None, **kw: Any) -> str:
    """Activate routing, subscribe the receiver to everything; returns the signing secret."""
    text = routing_text or (EXAMPLES / "routing" / "default.yaml").read_text()
    routing.push_file(server.store, text, author="tests", activate_it=True)
    sub = subscriptions.add(server.store, name="crm", url=receiver.url, event_types=["*"], actor="tests", **kw)
    receiver.secret = sub["secret"]
    server.app.state.webhooks.base_delay = 0.05  # retry quickly in tests
    return str(sub["secret"])


def qualify(client: Client, user: str, *, consent: dict[str, Any] | None = None) -> None:
    """A first visit from a Google ad, identification, then the actions that make an MQL."""
    now = datetime.now(UTC)
    anon = f"anon-{user}"
    url = "https://acme.test/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring"
    client.page(anonymous_id=anon, name="Pricing", properties={"path": "/pricing", "url": url},
                context={"campaign": {"source": "google", "medium": "cpc", "name": "spring"}},
                timestamp=now - timedelta(hours=2))  # fmt: skip
    for i in range(2):
        client.page(anonymous_id=anon, properties={"path": "/pricing"}, timestamp=now - timedelta(hours=1, minutes=i))
    traits: dict[str, Any] = {"email": f"{user}@acme-corp.io", "title": "VP Sales"}
    if consent is not None:
        traits["consent"] = consent
    client.identify(user_id=user, anonymous_id=anon, traits=traits)
    for name in ("demo_requested", "trial_started", "webinar_attended"):
        client.track(user_id=user, event=name, timestamp=now - timedelta(minutes=5))
    client.track(user_id=user, event="content_downloaded", properties={"asset_type": "case_study"})
    client.flush()


def client_for(server: Server) -> Client:
    return Client(server.write_key, host=server.url, sync_mode=True)


def test_an_mql_reaches_the_receiver_signed_with_what_sales_needs(server: Server, receiver: WebhookReceiver) -> None:
    secret = hooked(server, receiver)
    qualify(client_for(server), "ann")
    assert receiver.wait_for(lambda got: any(r.type == "lead.assigned" for r in got))
    library = standardwebhooks.Webhook(secret)
    for item in receiver.received:
        library.verify(item.body, item.headers)  # raises on a bad signature
    types = [(r.type, r.payload["data"].get("change", {}).get("to")) for r in receiver.received if r.lead_id == "ann"]
    if ("lead.stage_changed", "lead") in types:  # scored between identify and the demo request: engaged first
        assert types.index(("lead.stage_changed", "lead")) < types.index(("lead.stage_changed", "mql"))
        types.remove(("lead.stage_changed", "lead"))
    assert types == [
        ("lead.merged", None),  # the anonymous visitor identified: its history joined the known lead
        ("lead.stage_changed", "mql"),
        ("mql.created", "mql"),
        ("lead.assigned", None),
    ]
    data = next(r for r in receiver.received if r.type == "mql.created").payload["data"]
    assert data["lead"]["email"] == "ann@acme-corp.io" and data["lead"]["traits"]["title"] == "VP Sales"
    assert data["score"]["total"] == 105 and data["score"]["contributions"]["demo_request"]["points"] == 25
    assert data["engagement"]["pages"] == {"/pricing": 3} and data["engagement"]["events"]["demo_requested"] == 1
    assert data["first_touch"]["source"] == "google" and data["first_touch"]["campaign"] == "spring"
    assert data["first_touch"]["channel"] == "paid_search"
    assert (data["owner"], data["team"], data["route"]) == ("carol", "ae_enterprise", "demo_request")
    due = datetime.fromisoformat(data["sla_due_at"].removesuffix("Z"))
    assert timedelta(minutes=4) < due - datetime.now(UTC).replace(tzinfo=None) <= timedelta(minutes=5)
    assert data["change"]["mql_type"] == "new"
    ids = [r.webhook_id for r in receiver.received]
    assert len(ids) == len(set(ids)) and all(i.startswith("msg_") for i in ids)


def test_a_receiver_that_was_down_gets_every_id_once_in_order(server: Server, receiver: WebhookReceiver) -> None:
    hooked(server, receiver)
    receiver.stop()  # connection refused from now on
    client = client_for(server)
    users = [f"down-{i}" for i in range(4)]
    for user in users:
        qualify(client, user)
    server.settle()

    def deliveries() -> list[dict[str, Any]]:
        response = httpx.get(f"{server.url}/api/webhooks/deliveries", params={"limit": 1000},
                             auth=(server.admin_key, ""))  # fmt: skip
        return sorted(response.json(), key=lambda d: d["id"])

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the worker keeps trying against a closed port
        log = deliveries()
        heads = {d["lead_id"]: d for d in reversed(log)}  # each lead's first delivery
        if len(heads) == len(users) and all(d["attempts"] >= 2 for d in heads.values()):
            break
        time.sleep(0.1)
    assert {d["status"] for d in log} == {"pending"} and all(d["last_error"] for d in log if d["attempts"])
    assert all(d["attempts"] == 0 for d in log if d["id"] not in {h["id"] for h in heads.values()})  # in line
    receiver.start()  # same port
    assert receiver.wait_for(lambda got: len(got) >= len(log), timeout=15)
    time.sleep(0.5)  # anything duplicated would arrive now
    ids = [r.webhook_id for r in receiver.received]
    assert sorted(ids) == sorted(d["webhook_id"] for d in log)  # every id exactly once
    for user in users:
        sent = [d["webhook_id"] for d in log if d["lead_id"] == user]
        assert [r.webhook_id for r in receiver.received if r.lead_id == user] == sent  # in order per lead
        assert [r.type for r in receiver.received if r.lead_id == user][-3:] == [
            "lead.stage_changed",
            "mql.created",
            "lead.assigned",
        ]
    assert {d["status"] for d in deliveries()} == {"delivered"}


def test_an_sla_breach_is_emitted_on_time_without_another_event(server: Server, receiver: WebhookReceiver) -> None:
    hooked(server, receiver, FAST_SLA)
    qualify(client_for(server), "slow")
    assert receiver.wait_for(lambda got: any(r.type == "sla.breached" for r in got), timeout=10)
    breach = next(r for r in receiver.received if r.type == "sla.breached").payload["data"]
    due = datetime.fromisoformat(breach["sla_due_at"].removesuffix("Z"))
    at = datetime.fromisoformat(breach["breached_at"].removesuffix("Z"))
    assert timedelta(0) <= at - due < timedelta(seconds=1)  # found when due, not at the next event
    assert breach["owner"] == "carol" and breach["late_seconds"] < 1


def test_replay_sends_the_same_id_again(server: Server, receiver: WebhookReceiver) -> None:
    hooked(server, receiver)
    qualify(client_for(server), "rita")
    assert receiver.wait_for(lambda got: any(r.type == "lead.assigned" for r in got))
    time.sleep(0.2)
    count = len(receiver.received)
    first = next(r for r in receiver.received if r.type == "mql.created")
    log = httpx.get(f"{server.url}/api/webhooks/deliveries", params={"lead_id": "rita"},
                    auth=(server.admin_key, "")).json()  # fmt: skip
    wanted = next(d["id"] for d in log if d["webhook_id"] == first.webhook_id)
    queued = httpx.post(f"{server.url}/api/webhooks/replay", json={"delivery_ids": [wanted]},
                        auth=(server.admin_key, "")).json()  # fmt: skip
    assert queued == {"queued": 1}
    assert receiver.wait_for(lambda got: len(got) > count)
    again = receiver.received[count]
    assert again.webhook_id == first.webhook_id and again.payload == first.payload


def test_consent_from_identify_traits_is_respected(server: Server, receiver: WebhookReceiver) -> None:
    hooked(server, receiver)
    qualify(client_for(server), "quiet", consent={"sales_contact": False, "email": True})
    qualify(client_for(server), "loud")
    assert receiver.wait_for(lambda got: any(r.type == "lead.assigned" and r.lead_id == "loud" for r in got))
    server.settle()
    time.sleep(0.3)
    quiet = [r.type for r in receiver.received if r.lead_id == "quiet"]
    assert quiet == ["consent.changed"]  # the refusal itself, and nothing about the lead after it
    state = httpx.get(f"{server.url}/api/leads/quiet/lifecycle", auth=(server.admin_key, "")).json()
    assert state["stage"] == "mql" and state["assignments"] == []
    assert state["consent"] == {"email": True, "sms": None, "sales_contact": False}
