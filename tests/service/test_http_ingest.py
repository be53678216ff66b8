"""The Segment endpoints over a real server (SQLite, and PostgreSQL in its suite): how keys and bodies are
read (a key in the body, gzip, the key checked before the body), what is kept of a body that cannot be
read, a batch's shared context, replaying a rejected message, form submissions over the REST API, and the
JSON error shape of a server error."""

from __future__ import annotations

import base64
import gzip
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadgate.store.models import Event, Lead, Message, Rejected
from tests.service.conftest import Server

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def rejected(server: Server) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.url}/api/rejected", auth=(server.admin_key, ""))
    assert response.status_code == 200
    return list(response.json())


def test_a_write_key_in_a_gzipped_body_without_basic_auth(server: Server) -> None:
    body = {
        "writeKey": server.write_key,
        "sentAt": datetime.now(UTC).isoformat(),
        "batch": [
            {"type": "identify", "userId": "u1", "traits": {"email": "ann@acme.io"}, "messageId": "i1"},
            {"type": "track", "userId": "u1", "event": "demo_requested", "messageId": "t1"},
        ],
    }
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"content-encoding": "gzip", "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    single = {"writeKey": server.write_key, "userId": "u1", "event": "trial_started", "messageId": "t2"}
    assert httpx.post(f"{server.url}/v1/track", json=single).json()["accepted"] == 1
    wrong = httpx.post(f"{server.url}/v1/batch", json={**body, "writeKey": "lg_nope_nope"})
    assert wrong.status_code == 401
    bad = httpx.post(f"{server.url}/v1/track", json={"writeKey": server.write_key, "userId": "u1"})
    assert bad.status_code == 400 and rejected(server)[0]["payload"] == {"userId": "u1", "type": "track"}
    with server.store.reader() as s:
        assert s.scalar(select(Message.payload)) == body["batch"][0]  # kept raw, without the key
        assert len(s.scalars(select(Event)).all()) == 2


@pytest.mark.parametrize(
    ("content", "headers", "code"),
    [
        (b'{"batch": [', {}, "bad_json"),
        (b"\x1f\x8b\x08\x00 not gzip at all", {"content-encoding": "gzip"}, "bad_gzip"),
        (b'{"messages": []}', {}, "invalid_batch"),
    ],
)
def test_the_key_is_checked_before_the_body_and_a_bad_body_is_kept(
    server: Server, content: bytes, headers: dict[str, str], code: str
) -> None:
    anonymous = httpx.post(f"{server.url}/v1/batch", content=content, headers=headers)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    assert rejected(server) == []  # nothing is kept for a caller without a key
    keyed = httpx.post(f"{server.url}/v1/batch", content=content, headers=headers, auth=(server.write_key, ""))
    assert keyed.status_code == 400 and keyed.json()["error"]["code"] == code
    (kept,) = rejected(server)
    assert kept["source"] == "segment" and kept["problems"] == [f"body: {keyed.json()['error']['message']}"]
    if code == "invalid_batch":
        assert kept["payload"] == {"messages": []}
        return
    assert kept["payload"]["bytes"] == len(content) and kept["payload"]["truncated"] is False
    if code == "bad_json":
        assert kept["payload"]["body"] == content.decode()
    else:  # not text: kept as base64
        assert base64.b64decode(kept["payload"]["body_base64"]) == content


def test_what_is_kept_of_a_large_unreadable_body_is_its_start_without_the_key(server: Server) -> None:
    content = ('{"writeKey": "' + server.write_key + '", "batch": [' + '{"type": "track"},' * 10_000).encode()
    response = httpx.post(f"{server.url}/v1/batch", content=content)
    assert response.status_code == 401  # a body that is not JSON cannot carry a key
    keyed = httpx.post(f"{server.url}/v1/batch", content=content, auth=(server.write_key, ""))
    assert keyed.status_code == 400
    (kept,) = rejected(server)
    assert kept["payload"]["truncated"] is True and kept["payload"]["bytes"] == len(content)
    assert len(kept["payload"]["body"]) == 64 * 1024 and server.write_key not in kept["payload"]["body"]
    assert kept["payload"]["body"].startswith('{"writeKey": "[redacted]", "batch": [{"type": "track"},')
    single = httpx.post(f"{server.url}/v1/identify", content=b"[1, 2]", auth=(server.write_key, ""))
    assert single.status_code == 400 and single.json()["error"]["code"] == "invalid_message"
    assert rejected(server)[0]["payload"] == {"body": [1, 2]}
    rest = httpx.post(f"{server.url}/api/events", content=b"{oops", auth=(server.write_key, ""))
    assert rest.status_code == 400 and rest.json()["error"]["code"] == "bad_json"
    newest = rejected(server)[0]
    assert newest["source"] == "api" and newest["payload"]["kind"] == "event" and newest["payload"]["body"] == "{oops"


def test_a_batch_context_applies_to_each_message(server: Server) -> None:
    batch = {
        "context": {"userAgent": GOOGLEBOT, "ip": "203.0.113.9"},
        "batch": [
            {"type": "page", "userId": "crawled", "properties": {"path": "/pricing"}, "messageId": "p1"},
            {"type": "page", "userId": "person", "properties": {"path": "/pricing"}, "messageId": "p2",
             "context": {"userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"}},
        ],
    }  # fmt: skip
    assert httpx.post(f"{server.url}/v1/batch", json=batch, auth=(server.write_key, "")).status_code == 200
    with server.store.reader() as s:
        events = {e.lead_id: e for e in s.scalars(select(Event))}
    assert events["crawled"].is_bot and events["crawled"].context["ip"] == "203.0.113.9"
    assert not events["person"].is_bot and events["person"].context["ip"] == "203.0.113.9"  # its own agent wins


def test_a_rejected_segment_message_is_replayed_as_corrected(server: Server) -> None:
    bad = {"type": "track", "userId": "u5", "messageId": "no-name"}
    assert httpx.post(f"{server.url}/v1/batch", json={"batch": [bad]}, auth=(server.write_key, "")).status_code == 200
    (row,) = rejected(server)
    assert row["source"] == "segment" and row["payload"] == bad
    replay = f"{server.url}/api/rejected/{row['id']}/replay"
    still = httpx.post(replay, auth=(server.admin_key, ""))
    assert still.status_code == 400 and still.json()["error"]["code"] == "still_invalid"
    assert still.json()["error"]["details"] == ["event: a track message needs an event name"]
    fixed = httpx.post(replay, json={**bad, "event": "demo_requested"}, auth=(server.admin_key, ""))
    assert fixed.status_code == 200 and fixed.json()["accepted"] == 1
    assert rejected(server)[0]["replayed_at"] is not None
    server.settle()
    found = httpx.get(f"{server.url}/api/leads/u5", auth=(server.admin_key, "")).json()
    assert found["score"]["contributions"]["demo_request"]["count"] == 1
    with server.store.reader() as s:
        assert s.scalars(select(Rejected)).one().replayed_at is not None


def test_a_form_submission_over_rest_identifies_the_visitor(server: Server) -> None:
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    pages = [{"anonymous_id": "v-rest", "event": "page_view", "properties": {"path": "/pricing"}, "id": f"p{i}",
              "timestamp": when} for i in range(3)]  # fmt: skip
    form = {"anonymous_id": "v-rest", "email": "Dana@Acme-Corp.io", "event": "form_submitted", "id": "f1"}
    response = httpx.post(f"{server.url}/api/events", json=[*pages, form], auth=(server.write_key, ""))
    assert response.status_code == 200 and response.json()["accepted"] == 4
    server.settle()
    with server.store.reader() as s:
        lead = s.get(Lead, "anon:v-rest")
        assert lead is not None and lead.known and lead.email == "Dana@acme-corp.io"
        assert lead.account_id == "acme-corp.io" and lead.traits["email_free"] is False
    found = httpx.get(f"{server.url}/api/leads/anon:v-rest", auth=(server.admin_key, "")).json()
    assert found["score"]["contributions"]["pricing_3x"]["count"] == 3


def test_a_server_error_has_the_one_error_shape_and_is_logged(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(server.store, "status", broken)
    with caplog.at_level(logging.ERROR, logger="leadgate.service"):
        response = httpx.get(f"{server.url}/api/status", auth=(server.admin_key, ""))
    assert response.status_code == 500 and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "internal_error"
    assert "fire" not in response.text  # the cause is logged, not shown
    (record,) = [r for r in caplog.records if r.name == "leadgate.service"]
    assert "GET /api/status" in record.getMessage() and record.exc_info is not None
    assert "the disk is on fire" in caplog.text
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
