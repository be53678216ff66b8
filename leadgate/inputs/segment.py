"""Segment JSON messages (track / page / screen / identify / group) → leads, events and accounts.

Accepts one message per line, a JSON array of messages, or a ``{"batch": [...]}`` object.  ``page`` and
``screen`` become the events ``page_view`` and ``screen_view`` with the page's path, url, referrer and
title (from ``properties`` or ``context.page``).  The lead is ``userId``, else ``anonymousId``.
``identify`` gives lead traits (``traits``, or ``context.traits`` as RudderStack sends them), ``group``
gives account traits and the lead's account.  ``alias`` is accepted and ignored here (identity merging
belongs to the live service).  A message is read once, as the live service stores it once: a later message
with the ``messageId`` of one already read (or, without a ``messageId``, the same content) is skipped and
counted in ``SegmentData.duplicates``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from leadgate.errors import InputError, RowError
from leadgate.inputs.normalize import FieldTypes, normalize
from leadgate.inputs.tables import flatten, records_table

EVENT_FOR_TYPE = {"page": "page_view", "screen": "screen_view"}
PAGE_FIELDS = ("path", "url", "referrer", "title", "search")


@dataclass
class SegmentData:
    leads: pa.Table
    events: pa.Table
    accounts: pa.Table
    duplicates: int = 0  # messages skipped because one with the same messageId (or content) came first


def message_key(msg: dict[str, Any]) -> str:
    """What makes a message the same message: its ``messageId``, else a hash of its content (the live
    service's rule, so a retried message counts once in a file as it does in the store)."""
    given = msg.get("messageId")
    if isinstance(given, str) and given:
        return given
    return "sha256:" + hashlib.sha256(json.dumps(msg, sort_keys=True, default=str).encode()).hexdigest()


def _messages(path: Path, rejected: list[RowError]) -> list[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and '"batch"' in stripped[:200]):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                raise InputError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
        else:
            items = doc.get("batch") if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                raise InputError(f"{path}: expected a JSON array of messages or an object with 'batch'")
            return list(enumerate(items, start=1))
    out: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            rejected.append(RowError(str(path), number, None, f"not valid JSON: {exc.msg}"))
    return out


def read_segment(path: Path, field_types: FieldTypes, rejected: list[RowError]) -> SegmentData:
    events: list[dict[str, Any]] = []
    event_rows: list[int] = []
    leads: dict[str, dict[str, Any]] = {}
    lead_rows: dict[str, int] = {}
    accounts: dict[str, dict[str, Any]] = {}
    account_rows: dict[str, int] = {}
    seen: set[str] = set()
    duplicates = 0
    for number, msg in _messages(path, rejected):
        if not isinstance(msg, dict):
            rejected.append(RowError(str(path), number, None, "expected a JSON object (a Segment message)"))
            continue
        same = message_key(msg)
        if same in seen:
            duplicates += 1
            continue
        kind = msg.get("type")
        lead_id = msg.get("userId") or msg.get("anonymousId")
        if kind not in ("track", "page", "screen", "identify", "group", "alias"):
            rejected.append(
                RowError(
                    str(path), number, "type", f"expected track, page, screen, identify, group or alias, found {kind!r}"
                )
            )
            continue
        if kind == "alias":
            continue
        if not lead_id:
            rejected.append(RowError(str(path), number, "userId", "a message needs a userId or an anonymousId"))
            continue
        lead_id = str(lead_id)
        context: dict[str, Any] = msg["context"] if isinstance(msg.get("context"), dict) else {}
        if lead_id not in leads:
            leads[lead_id] = {"lead_id": lead_id}
            lead_rows[lead_id] = number
        if kind == "identify":
            traits = msg.get("traits") or context.get("traits")
            if isinstance(traits, dict):
                leads[lead_id].update({k: v for k, v in flatten(traits).items() if k not in ("id", "lead_id")})
            seen.add(same)
            continue
        if kind == "group":
            group_id = msg.get("groupId")
            if not group_id:
                rejected.append(RowError(str(path), number, "groupId", "a group message needs a groupId"))
                continue
            group_traits: dict[str, Any] = msg["traits"] if isinstance(msg.get("traits"), dict) else {}
            accounts.setdefault(str(group_id), {"account_id": str(group_id)}).update(flatten(group_traits))
            account_rows.setdefault(str(group_id), number)
            leads[lead_id]["account_id"] = str(group_id)
            seen.add(same)
            continue
        name = msg.get("event") if kind == "track" else EVENT_FOR_TYPE[kind]
        if not name:
            rejected.append(RowError(str(path), number, "event", "a track message needs an event name"))
            continue
        props: dict[str, Any] = msg["properties"] if isinstance(msg.get("properties"), dict) else {}
        row: dict[str, Any] = flatten(props)
        page: dict[str, Any] = context["page"] if isinstance(context.get("page"), dict) else {}
        if kind in EVENT_FOR_TYPE:
            for page_field in PAGE_FIELDS:
                if page_field not in row and page.get(page_field) is not None:
                    row[page_field] = page[page_field]
            if msg.get("name") is not None and "name" not in row:
                row["name"] = msg["name"]
        ts = msg.get("timestamp") or msg.get("originalTimestamp") or msg.get("receivedAt") or msg.get("sentAt")
        row.update({"lead_id": lead_id, "event": str(name), "ts": ts, "message_id": msg.get("messageId")})
        events.append(row)
        event_rows.append(number)
        seen.add(same)
    ev = (
        normalize(records_table(path, events, event_rows), "events", field_types, rejected)
        if events
        else _empty_events()
    )
    lead_numbers = [lead_rows[k] for k in leads]
    account_numbers = [account_rows[k] for k in accounts]
    lead_table = normalize(records_table(path, list(leads.values()), lead_numbers), "leads", field_types, rejected)
    account_table = (
        normalize(records_table(path, list(accounts.values()), account_numbers), "accounts", field_types, rejected)
        if accounts
        else pa.table({"account_id": pa.array([], pa.string())})
    )
    return SegmentData(leads=lead_table, events=ev, accounts=account_table, duplicates=duplicates)


def _empty_events() -> pa.Table:
    return pa.table(
        {
            "lead_id": pa.array([], pa.string()),
            "event": pa.array([], pa.string()),
            "ts": pa.array([], pa.timestamp("us")),
        }
    )
