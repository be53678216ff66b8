from __future__ import annotations

import json
from pathlib import Path

from leadgate.inputs.readers import read_dataset

TYPES = {("events", "path"): "string", ("leads", "title"): "string", ("accounts", "employees"): "number"}


def test_segment_messages_become_leads_events_and_accounts(tmp_path: Path) -> None:
    messages = [
        {
            "type": "identify",
            "userId": "u1",
            "traits": {"email": "Ann@Acme.io", "title": "VP Sales"},
            "timestamp": "2026-10-01T00:00:00Z",
            "messageId": "m1",
        },
        {
            "type": "identify",
            "userId": "u2",
            "context": {"traits": {"title": "CEO"}},  # RudderStack puts traits here
            "timestamp": "2026-10-01T00:00:00Z",
            "messageId": "m2",
        },
        {
            "type": "page",
            "anonymousId": "anon-1",
            "name": "Pricing",
            "context": {"page": {"path": "/pricing"}},
            "timestamp": "2026-10-01T00:01:00Z",
            "messageId": "m3",
        },
        {
            "type": "track",
            "userId": "u1",
            "event": "Demo Requested",
            "properties": {"plan": "pro"},
            "timestamp": "2026-10-01T00:02:00Z",
            "messageId": "m4",
        },
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"employees": 120}},
        {"type": "track", "userId": "u1", "timestamp": "2026-10-01T00:03:00Z"},
        {"type": "launch", "userId": "u1"},
        {"type": "alias", "userId": "u1", "previousId": "anon-1"},
    ]
    path = tmp_path / "segment.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n{broken\n")
    data = read_dataset(None, path, field_types=TYPES, events_format="segment")
    leads = {r["lead_id"]: r for r in data.leads.to_pylist()}
    assert set(leads) == {"u1", "u2", "anon-1"}
    assert leads["u1"]["email_domain"] == "acme.io" and leads["u1"]["account_id"] == "acme"
    assert leads["u2"]["title"] == "CEO"
    events = data.events.to_pylist()
    assert [(e["lead_id"], e["event"], e["message_id"]) for e in events] == [
        ("anon-1", "page_view", "m3"),
        ("u1", "Demo Requested", "m4"),
    ]
    assert events[0]["path"] == "/pricing" and events[1]["plan"] == "pro"
    assert data.accounts is not None and data.accounts.to_pylist()[0]["employees"] == 120.0
    assert sorted((r.row, r.field) for r in data.rejected) == [(6, "event"), (7, "type"), (9, None)]


def test_segment_batch_object(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text(
        json.dumps({"batch": [{"type": "track", "userId": "u", "event": "x", "timestamp": "2026-10-01T00:00:00Z"}]})
    )
    data = read_dataset(None, path, events_format="segment")
    assert data.events.num_rows == 1 and data.rejected == []


def test_a_message_is_read_once_by_its_message_id(tmp_path: Path) -> None:
    """As the live service stores each messageId once, a file counts it once: the first wins, the repeats
    are counted; a message refused as malformed does not take its messageId away from a good retry."""
    when = "2026-10-01T00:00:00Z"
    messages = [
        {"type": "track", "userId": "u1", "event": "Demo", "timestamp": when, "messageId": "m1"},
        {"type": "track", "userId": "u1", "event": "Demo", "timestamp": when, "messageId": "m1"},
        {"type": "track", "userId": "u2", "event": "Other", "timestamp": when, "messageId": "m1"},  # first wins
        {"type": "track", "userId": "u1", "timestamp": when, "messageId": "m2"},  # no event name: rejected
        {"type": "track", "userId": "u1", "event": "Retry", "timestamp": when, "messageId": "m2"},
        {"type": "page", "userId": "u1", "name": "Home", "timestamp": when},  # no messageId: same content
        {"type": "page", "userId": "u1", "name": "Home", "timestamp": when},
        {"type": "page", "userId": "u1", "name": "Away", "timestamp": when},
        {"type": "identify", "userId": "u1", "traits": {"title": "CEO"}, "messageId": "m3"},
        {"type": "identify", "userId": "u1", "traits": {"title": "Intern"}, "messageId": "m3"},
    ]
    path = tmp_path / "segment.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    data = read_dataset(None, path, field_types=TYPES, events_format="segment")
    events = [(e["lead_id"], e["event"], e["message_id"]) for e in data.events.to_pylist()]
    assert events == [
        ("u1", "Demo", "m1"),
        ("u1", "Retry", "m2"),
        ("u1", "page_view", None),
        ("u1", "page_view", None),
    ]
    assert [e["name"] for e in data.events.to_pylist()[2:]] == ["Home", "Away"]
    assert data.duplicate_messages == 4
    assert [(r.row, r.field) for r in data.rejected] == [(4, "event")]
    assert data.leads.to_pylist()[0]["title"] == "CEO"
