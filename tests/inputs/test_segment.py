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
