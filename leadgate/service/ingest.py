"""Segment-compatible ingestion: track / page / screen / identify / group / alias messages into the store.

Framework-free (the HTTP app is a thin layer over ``ingest``).  Each message is checked on its own: the
good ones of a batch are stored, each bad one is reported with every problem and kept in ``rejected`` for
replay.  Events are idempotent by ``messageId`` (a message without one gets a content hash, so an exact
retry is still recognised).  Client clock skew is corrected as Segment does: the time the client stamped
is shifted by ``receivedAt − sentAt``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadgate.service.scorer import Scorer
from leadgate.service.validation import EmailProblem, check_email, email_traits, is_bot
from leadgate.store import consent
from leadgate.store.store import IncomingEvent, Store, email_domain, utcnow

TYPES = ("track", "page", "screen", "identify", "group", "alias")
EVENT_FOR = {"page": "page_view", "screen": "screen_view"}
PAGE_FIELDS = ("path", "url", "referrer", "title", "search")


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    new_mqls: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "mqls": self.new_mqls,
        }


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 time, found {value!r}")
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def message_id(msg: dict[str, Any]) -> str:
    given = msg.get("messageId")
    if isinstance(given, str) and given:
        return given
    return "sha256:" + hashlib.sha256(json.dumps(msg, sort_keys=True, default=str).encode()).hexdigest()


def problems_of(msg: Any) -> list[str]:
    """Everything wrong with one message (empty when it can be stored)."""
    if not isinstance(msg, dict):
        return ["a message is a JSON object"]
    problems: list[str] = []
    kind = msg.get("type")
    if kind not in TYPES:
        problems.append(f"type: expected one of {', '.join(TYPES)}, found {kind!r}")
    if not (msg.get("userId") or msg.get("anonymousId")):
        problems.append("userId: a message needs a userId or an anonymousId")
    for key in ("userId", "anonymousId", "messageId", "groupId", "previousId"):
        if msg.get(key) is not None and not isinstance(msg.get(key), (str, int)):
            problems.append(f"{key}: expected text, found {type(msg.get(key)).__name__}")
    if kind == "track" and not (isinstance(msg.get("event"), str) and msg["event"].strip()):
        problems.append("event: a track message needs an event name")
    if kind == "group" and not msg.get("groupId"):
        problems.append("groupId: a group message needs a groupId")
    if kind == "alias" and not (msg.get("previousId") and msg.get("userId")):
        problems.append("previousId: an alias message needs a previousId and a userId")
    for key in ("properties", "traits", "context"):
        if msg.get(key) is not None and not isinstance(msg.get(key), dict):
            problems.append(f"{key}: expected an object")
    for key in ("timestamp", "originalTimestamp", "sentAt"):
        try:
            _time(msg.get(key))
        except (ValueError, TypeError):
            problems.append(f"{key}: expected an ISO-8601 time, found {msg.get(key)!r}")
    email = _email_of(msg)
    if email is not None:
        try:
            check_email(email)
        except EmailProblem as exc:
            problems.append(f"traits.email: {exc}")
    return problems


def _email_of(msg: dict[str, Any]) -> str | None:
    for doc in (
        msg.get("traits"),
        (msg.get("context") or {}).get("traits") if isinstance(msg.get("context"), dict) else None,
    ):
        if isinstance(doc, dict) and isinstance(doc.get("email"), str):
            return str(doc["email"])
    return None


def event_time(msg: dict[str, Any], sent_at: datetime | None, received_at: datetime) -> datetime:
    """When it happened: the client's stamp, shifted by the client's clock error (receivedAt − sentAt)."""
    stamped = _time(msg.get("timestamp")) or _time(msg.get("originalTimestamp"))
    sent = _time(msg.get("sentAt")) or sent_at
    if stamped is None:
        return received_at
    if sent is None:
        return stamped
    return stamped + (received_at - sent)


def ingest(
    store: Store,
    messages: list[Any],
    *,
    sent_at: str | None = None,
    source: str = "segment",
    actor: str = "system",
    score: bool = True,
    scorer: Scorer | None = None,
) -> IngestResult:
    """Store a batch of messages; re-score the leads they touched under the active definition."""
    result = IngestResult()
    received = utcnow()
    batch_sent = _time(sent_at) if isinstance(sent_at, str) else None
    with store.session() as s, s.begin():
        pending: list[IncomingEvent] = []
        leads: dict[tuple[Any, ...], str] = {}  # identifiers -> lead, for this batch's event messages
        known = store.prefetch(s, _identity_pairs(messages))
        for index, msg in enumerate(messages):
            problems = problems_of(msg)
            if problems:
                result.rejected.append(
                    {
                        "index": index,
                        "messageId": msg.get("messageId") if isinstance(msg, dict) else None,
                        "problems": problems,
                    }
                )
                store.reject(s, source, msg if isinstance(msg, dict) else {"message": msg}, problems)
                continue
            ids = (msg.get("userId"), msg.get("anonymousId"), _email_of(msg))
            if msg["type"] in ("track", "page", "screen") and ids in leads:
                lead_id = leads[ids]
            else:
                lead_id = _apply(store, s, msg, received, actor, known)
                if msg["type"] in ("identify", "alias", "group"):
                    leads.clear()  # a merge may have changed where identifiers lead
                leads[ids] = lead_id
            result.touched.add(lead_id)
            if msg["type"] in ("track", "page", "screen"):
                pending.append(_event(msg, lead_id, batch_sent, received, source))
            result.accepted += 1
        fresh = store.record_events(s, pending)
        result.duplicates = len(pending) - len(fresh)
        result.accepted -= result.duplicates
    if score and result.touched and scorer is not None:
        scorer.submit(sorted(result.touched))
    elif score and result.touched:
        outcome = store.score(sorted(result.touched), actor=actor)
        if outcome is not None:
            result.new_mqls = outcome.new_mqls
    return result


def _identity_pairs(messages: list[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for msg in messages:
        if isinstance(msg, dict):
            for kind, key in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
                if isinstance(msg.get(key), (str, int)) and msg.get(key) != "":
                    pairs.append((kind, str(msg[key])))
    return pairs


def _apply(
    store: Store,
    s: Any,
    msg: dict[str, Any],
    received: datetime,
    actor: str,
    known: dict[tuple[str, str], str | None] | None = None,
) -> str:
    """Resolve the message's lead and apply identify / group / alias; returns the lead id."""
    user_id = str(msg["userId"]) if msg.get("userId") else None
    anonymous_id = str(msg["anonymousId"]) if msg.get("anonymousId") else None
    email = _email_of(msg)
    normalized = check_email(email) if email else None
    if msg["type"] == "alias":
        lead = store.resolve(s, user_id=user_id, at=received, actor=actor)
        previous = str(msg["previousId"])
        for kind in ("user_id", "anonymous_id"):
            other = store.find(s, kind, previous)
            if other is not None and other.id != lead.id:
                store.merge(s, other, lead, actor, received)
        return lead.id
    lead = store.resolve(
        s, user_id=user_id, anonymous_id=anonymous_id, email=normalized, at=received, actor=actor, known=known
    )
    if msg["type"] == "identify":
        traits = msg.get("traits") or (msg.get("context") or {}).get("traits") or {}
        updates = {k: v for k, v in _flatten(traits).items() if k not in ("email", "id")}
        if normalized:
            store.set_email(lead, normalized)
            domain = email_domain(normalized)
            if domain:
                updates.update(email_traits(domain))
                if lead.account_id is None and not updates.get("email_free"):
                    store.upsert_account(s, domain, {"domain": domain}, at=received)
                    lead.account_id = domain
        lead.traits = {**lead.traits, **updates}
        lead.updated_at = received
        flags = consent.from_traits(updates)
        if flags:
            consent.update(s, lead, flags, source="traits", actor=actor, now=received)
    elif msg["type"] == "group":
        traits = _flatten(msg.get("traits") or {})
        store.upsert_account(s, str(msg["groupId"]), traits, at=received)
        lead.account_id = str(msg["groupId"])
    return lead.id


def _event(
    msg: dict[str, Any], lead_id: str, sent_at: datetime | None, received: datetime, source: str
) -> IncomingEvent:
    kind = msg["type"]
    props = _flatten(msg.get("properties") or {})
    context = msg.get("context") or {}
    if kind in EVENT_FOR:
        page: dict[str, Any] = context["page"] if isinstance(context.get("page"), dict) else {}
        for key in PAGE_FIELDS:
            if key not in props and page.get(key) is not None:
                props[key] = page[key]
        if msg.get("name") is not None:
            props.setdefault("name", msg["name"])
    name = msg["event"] if kind == "track" else EVENT_FOR[kind]
    return IncomingEvent(
        message_id=message_id(msg),
        lead_id=lead_id,
        event=str(name),
        ts=event_time(msg, sent_at, received),
        properties=props,
        context=context,
        source=source,
        is_bot=is_bot(context.get("userAgent")),
    )
