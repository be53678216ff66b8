"""The real segment-analytics-python and rudder-sdk-python clients, unmodified, pointed at the server with
their ``host`` setting: events arrive, the anonymous visitor becomes a known lead, and the lead becomes an
MQL moments after the qualifying action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.service.conftest import Server, ready_store, serving


def journey(client: Any, user: str, anon: str) -> None:
    now = datetime.now(UTC)
    for i in range(3):
        client.page(
            anonymous_id=anon, name="Pricing", properties={"path": "/pricing"}, timestamp=now - timedelta(hours=i + 1)
        )
    client.identify(user_id=user, anonymous_id=anon, traits={"email": f"{user}@acme-corp.io", "title": "VP Sales"})
    for name in ("demo_requested", "trial_started", "webinar_attended", "newsletter_subscribed"):
        client.track(user_id=user, event=name, properties={}, timestamp=now - timedelta(minutes=5))
    client.track(user_id=user, event="content_downloaded", properties={"asset_type": "case_study"})
    client.flush()


def lead(server: Server, lead_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/leads/{lead_id}", auth=(server.admin_key, ""))
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_real_client_delivers_events_that_make_an_mql(server: Server, sdk: str) -> None:
    errors: list[Exception] = []
    if sdk == "segment":
        from segment.analytics import Client
    else:
        from rudderstack.analytics import Client  # gzips by default, sends no writeKey in the body
    client = Client(server.write_key, host=server.url, sync_mode=True, on_error=lambda e, _b: errors.append(e))
    journey(client, f"{sdk}-user", f"{sdk}-anon")
    assert errors == []
    server.settle()
    found = lead(server, f"{sdk}-user")
    assert found["stage"] == "mql"
    score = found["score"]
    assert score["qualified"] and score["total"] == 110.0
    assert score["contributions"]["pricing_3x"]["count"] == 3  # the anonymous visits joined the known lead
    assert found["traits"]["email_free"] is False and found["account_id"] == "acme-corp.io"
    assert server.store.status()["events"] == 8


def test_a_retried_batch_is_counted_once(server: Server) -> None:
    batch = {
        "batch": [{"type": "track", "userId": "u1", "event": "demo_requested", "messageId": f"r{i}"} for i in range(5)]
    }
    first = httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, "")).json()
    again = httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, "")).json()
    assert (first["accepted"], first["duplicates"]) == (5, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 5)
    assert server.store.status()["events"] == 5


def test_write_keys_only_ingest_and_errors_have_one_shape(server: Server) -> None:
    denied = httpx.get(f"{server.url}/api/status", auth=(server.write_key, ""))
    assert denied.status_code == 403 and set(denied.json()["error"]) == {"code", "message", "details"}
    missing = httpx.get(f"{server.url}/api/status")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    unknown = httpx.get(f"{server.url}/api/nothing-here", auth=(server.admin_key, ""))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong = httpx.delete(f"{server.url}/v1/batch", auth=(server.write_key, ""))
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]
    server.store.revoke_key(server.admin_key.split("_")[1])
    assert httpx.get(f"{server.url}/api/status", auth=(server.admin_key, "")).status_code == 401


def test_bad_messages_are_reported_and_kept_good_ones_stored(server: Server) -> None:
    batch = {"batch": [
        {"type": "track", "userId": "u1", "event": "demo_requested", "messageId": "ok-1"},
        {"type": "track", "userId": "u1", "messageId": "bad-1"},
        {"type": "identify", "userId": "u2", "traits": {"email": "not an email"}, "messageId": "bad-2"},
        {"type": "launch", "messageId": "bad-3"},
    ]}  # fmt: skip
    response = httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, ""))
    body = response.json()
    assert response.status_code == 200 and body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "event: a track message needs an event name" in body["rejected"][0]["problems"]
    assert any(p.startswith("traits.email") for p in body["rejected"][1]["problems"])
    single = httpx.post(f"{server.url}/v1/track", json={"userId": "u1"}, auth=(server.write_key, ""))
    assert single.status_code == 400 and single.json()["error"]["code"] == "invalid_message"
    listed = httpx.get(f"{server.url}/api/rejected", auth=(server.admin_key, "")).json()
    assert len(listed) == 4
    status = httpx.get(f"{server.url}/api/status", auth=(server.admin_key, "")).json()
    assert status["rejected"] == 4 and status["events"] == 1


def test_clock_skew_is_corrected_from_sent_at(server: Server) -> None:
    skew = timedelta(hours=3)  # the client's clock runs three hours fast
    client_now = datetime.now(UTC) + skew
    batch = {"sentAt": client_now.isoformat(), "batch": [
        {"type": "track", "userId": "u9", "event": "demo_requested", "messageId": "skew-1",
         "timestamp": (client_now - timedelta(minutes=10)).isoformat()}]}  # fmt: skip
    assert httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, "")).status_code == 200
    from sqlalchemy import select

    from leadgate.store.models import Event

    with server.store.session() as s:
        stored = s.scalars(select(Event)).one()
    happened = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    assert abs((stored.ts - happened).total_seconds()) < 30


def test_page_alias_identify_track_in_one_flush_of_the_real_client(server: Server) -> None:
    """The browser's anonymous visits, then sign-up: alias (anonymous id → the new user id), identify and
    track that user id, all in the one batch the client flushes.  One lead, history joined, counted once."""
    from segment.analytics import Client

    errors: list[Exception] = []
    client = Client(server.write_key, host=server.url, on_error=lambda e, _b: errors.append(e), upload_size=100)
    now = datetime.now(UTC)
    for i in range(3):
        client.page(anonymous_id="anon-flush", name="Pricing", properties={"path": "/pricing"},
                    timestamp=now - timedelta(hours=i + 1))  # fmt: skip
    client.alias(previous_id="anon-flush", user_id="user-flush")
    client.identify(user_id="user-flush", traits={"email": "flush@acme-corp.io", "title": "VP Sales"})
    for name in ("demo_requested", "trial_started", "webinar_attended"):
        client.track(user_id="user-flush", event=name, properties={}, timestamp=now - timedelta(minutes=5))
    client.flush()
    client.shutdown()
    assert errors == []
    server.settle()
    from sqlalchemy import select

    from leadgate.store.models import Event, Message

    with server.store.reader() as s:
        arrivals = set(s.scalars(select(Event.received_at)))
        kept = {m.type: m.lead_id for m in s.scalars(select(Message))}
    assert len(arrivals) == 1  # one batch
    assert kept == {"alias": "user-flush", "identify": "user-flush"}
    found = lead(server, "user-flush")
    assert found["score"]["contributions"]["pricing_3x"]["count"] == 3
    assert found["score"]["total"] == 15 + 25 + 30 + 10 + 15  # title, demo, trial, webinar, pricing: each once
    assert lead(server, "anon:anon-flush")["merged_into"] == "user-flush"
    assert lead(server, "anon:anon-flush")["score"] is None
    assert server.store.status()["leads"] == 1


def test_a_form_submitted_through_the_real_client_identifies_the_visitor(server: Server) -> None:
    from segment.analytics import Client

    client = Client(server.write_key, host=server.url, sync_mode=True)
    client.page(anonymous_id="anon-form", name="Contact", properties={"path": "/contact"})
    client.track(anonymous_id="anon-form", event="Form Submitted",
                 properties={"email": "Eve@Acme-Corp.io", "form": "contact"})  # fmt: skip
    server.settle()
    found = lead(server, "anon:anon-form")
    assert found["email"] == "Eve@acme-corp.io" and found["account_id"] == "acme-corp.io"
    assert found["traits"]["email_free"] is False
    status = server.store.status()
    assert (status["leads"], status["known_leads"], status["events"]) == (1, 1, 2)


def test_real_client_through_the_scorer_process(store_url: str) -> None:
    """What ``leadgate serve`` runs: the scorer in a process of its own decides the same."""
    from segment.analytics import Client

    store = ready_store(store_url)
    try:
        with serving(store, scorer_process=True) as server:
            errors: list[Exception] = []
            client = Client(server.write_key, host=server.url, sync_mode=True, on_error=lambda e, _b: errors.append(e))
            journey(client, "proc-user", "proc-anon")
            assert errors == []
            server.settle()
            found = lead(server, "proc-user")
            assert found["stage"] == "mql" and found["score"]["total"] == 110.0
            assert list(server.app.state.scorer.new_mqls) == ["proc-user"]
    finally:
        store.engine.dispose()
