"""Segment-compatible ingestion: track / page / screen / identify / group / alias messages into the store.

Framework-free (the HTTP app is a thin layer over ``ingest``).  Each message is checked on its own: the
good ones of a batch are stored, each bad one is reported with every problem and kept in ``rejected`` for
replay.  Every message is idempotent by ``messageId`` (a message without one gets a content hash, so an
exact retry is still recognised): events are kept in ``events``, identify / group / alias messages raw in
``messages``, and a retried one is reported as a duplicate and not applied again.  A track message whose
properties carry an ``email`` (a form submission) identifies its lead as identify would.  Client clock
skew is corrected as Segment does (``event_time``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from leadgate.inputs.segment import message_key
from leadgate.service.records import flatten, in_transaction, learn_email, prefetch_domains
from leadgate.service.scorer import LeadScorer
from leadgate.service.validation import EmailProblem, check_email, is_bot
from leadgate.store import consent
from leadgate.store.store import IncomingEvent, Store, email_domain, normalize_email, utcnow

TYPES = ("track", "page", "screen", "identify", "group", "alias")
EVENT_TYPES = frozenset({"track", "page", "screen"})
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
    found = _email_field(msg)
    if found is not None:
        try:
            check_email(found[1])
        except EmailProblem as exc:
            problems.append(f"{found[0]}: {exc}")
    return problems


def _email_field(msg: dict[str, Any]) -> tuple[str, str] | None:
    """Where the message names its person's email, and the address: identify traits (``context.traits`` for
    RudderStack), or the properties of a track message (a form submission)."""
    context = msg.get("context")
    places = [("traits.email", msg.get("traits")), ("context.traits.email", (context or {}).get("traits"))]
    if msg.get("type") == "track":
        places.append(("properties.email", msg.get("properties")))
    for name, doc in places:
        if isinstance(doc, dict) and isinstance(doc.get("email"), str):
            return name, str(doc["email"])
    return None


def _email_of(msg: dict[str, Any]) -> str | None:
    found = _email_field(msg)
    return None if found is None else found[1]


def event_time(msg: dict[str, Any], sent_at: datetime | None, received_at: datetime) -> datetime:
    """When it happened, as Segment computes ``timestamp`` (docs/service.md, "Timestamps").

    The client's stamp is ``originalTimestamp``, or a ``timestamp`` passed without one (what the server-side
    libraries send); with ``sentAt`` (the message's, else the batch's) it is corrected for the client's clock
    error: ``receivedAt − (sentAt − stamp)``.  A message carrying both ``timestamp`` and
    ``originalTimestamp`` has its ``timestamp`` computed already: it is used as it is."""
    timestamp, original = _time(msg.get("timestamp")), _time(msg.get("originalTimestamp"))
    if timestamp is not None and original is not None:
        return timestamp
    stamped = original or timestamp
    if stamped is None:
        return received_at
    sent = _time(msg.get("sentAt")) or sent_at
    if sent is None:
        return stamped
    return received_at - (sent - stamped)


def ingest(
    store: Store,
    messages: list[Any],
    *,
    sent_at: str | None = None,
    source: str = "segment",
    actor: str = "system",
    score: bool = True,
    scorer: LeadScorer | None = None,
) -> IngestResult:
    """Store a batch of messages; re-score the leads they touched under the active definition.

    Messages are checked and turned into events before the write transaction opens, so the store's write
    lock is held only for identity resolution and the inserts."""
    result = IngestResult()
    received = utcnow()
    batch_sent = _time(sent_at) if isinstance(sent_at, str) else None
    good: list[tuple[dict[str, Any], IncomingEvent | None, str]] = []  # message, its event, its message id
    bad: list[tuple[dict[str, Any], list[str]]] = []
    for index, msg in enumerate(messages):
        problems = problems_of(msg)
        if problems:
            given = msg.get("messageId") if isinstance(msg, dict) else None
            result.rejected.append({"index": index, "messageId": given, "problems": problems})
            bad.append((msg if isinstance(msg, dict) else {"message": msg}, problems))
            continue
        event = _event(msg, "", batch_sent, received, source) if msg["type"] in EVENT_TYPES else None
        good.append((msg, event, event.message_id if event is not None else message_key(msg)))

    def write(s: Session) -> None:
        for payload, problems in bad:
            store.reject(s, source, payload, problems)
        pending: list[IncomingEvent] = []
        kept: list[dict[str, Any]] = []
        known = store.prefetch(s, _identity_pairs(messages))
        emails = (_email_of(msg) for msg, _, _ in good)
        prefetch_domains(s, {d for e in emails if e and (d := email_domain(e.lower()))})
        seen = store.seen_messages(s, (mid for _, event, mid in good if event is None))
        result.touched, result.accepted, result.duplicates = set(), 0, 0
        for msg, event, mid in good:
            if event is None and mid in seen:  # a retried identify / group / alias: not applied again
                result.duplicates += 1
                continue
            lead_id = _known_lead(s, msg, known) if event is not None else None
            if lead_id is None:
                lead_id = _apply(store, s, msg, received, actor, known)
            result.touched.add(lead_id)
            if event is not None:
                event.lead_id = lead_id
                pending.append(event)
            else:
                seen.add(mid)
                kept.append({"message_id": mid, "type": msg["type"], "lead_id": lead_id, "received_at": received,
                             "source": source, "payload": msg})  # fmt: skip
            result.accepted += 1
        store.record_messages(s, kept)
        fresh = store.record_events(s, pending)
        result.duplicates += len(pending) - len(fresh)
        result.accepted -= len(pending) - len(fresh)

    in_transaction(store, write)
    if score and result.touched and scorer is not None:
        scorer.submit(sorted(result.touched))
    elif score and result.touched:
        outcome = store.score(sorted(result.touched), actor=actor)
        if outcome is not None:
            result.new_mqls = outcome.new_mqls
    return result


def _known_lead(s: Any, msg: dict[str, Any], known: dict[tuple[str, str], str | None]) -> str | None:
    """The lead of an event message whose identifiers all point at one lead already: no resolution (and no
    ORM work) needed.  None when any identifier is new or they disagree (``resolve`` then merges)."""
    keys = []
    if msg.get("userId"):
        keys.append(("user_id", str(msg["userId"])))
    if msg.get("anonymousId"):
        keys.append(("anonymous_id", str(msg["anonymousId"])))
    email = _email_of(msg)
    if email is not None:
        keys.append(("email", normalize_email(check_email(email)) or ""))
    merged: dict[str, str] = s.info.get("merged", {})
    found = None
    for key in keys:
        lead_id = known.get(key)
        while lead_id in merged:  # merged earlier in this batch
            lead_id = merged[lead_id]
        if lead_id is None or (found is not None and lead_id != found):
            return None
        found = lead_id
    return found


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
        return _alias(store, s, str(user_id), str(msg["previousId"]), received, actor, known)
    lead = store.resolve(
        s, user_id=user_id, anonymous_id=anonymous_id, email=normalized, at=received, actor=actor, known=known
    )
    updates: dict[str, Any] = {}
    if msg["type"] == "identify":
        traits = msg.get("traits") or (msg.get("context") or {}).get("traits") or {}
        updates = {k: v for k, v in flatten(traits).items() if k not in ("email", "id")}
    if normalized and (msg["type"] == "identify" or lead.email_normalized != normalize_email(normalized)):
        updates.update(learn_email(s, store, lead, normalized, received))  # identify, or a form's new address
    if updates:
        lead.traits = {**lead.traits, **updates}
        lead.updated_at = received
        flags = consent.from_traits(updates)
        if flags:
            consent.update(s, lead, flags, source="traits", actor=actor, now=received)
    if msg["type"] == "group":
        traits = flatten(msg.get("traits") or {})
        store.upsert_account(s, str(msg["groupId"]), traits, at=received)
        lead.account_id = str(msg["groupId"])
    return lead.id


def _alias(
    store: Store,
    s: Session,
    user_id: str,
    previous: str,
    received: datetime,
    actor: str,
    known: dict[tuple[str, str], str | None] | None,
) -> str:
    """``previousId`` (an earlier user id or an anonymous id) is the same person as ``userId``: their leads
    merge into the user id's.  A previous id never seen before is kept as an anonymous id of the lead, so
    what it sends later joins it.  ``known`` (the batch's identity cache) is kept current."""
    lead = store.resolve(s, user_id=user_id, at=received, actor=actor, known=known)
    others = [(kind, store.find(s, kind, previous)) for kind in ("user_id", "anonymous_id")]
    for _kind, other in others:
        if other is not None and other.id != lead.id:
            store.merge(s, other, lead, actor, received)
            if known is not None:
                known.update({key: lead.id for key, value in known.items() if value == other.id})
    if all(other is None for _, other in others) and previous != user_id:
        store.resolve(s, user_id=user_id, anonymous_id=previous, at=received, actor=actor, known=known)
    return lead.id


def _event(
    msg: dict[str, Any], lead_id: str, sent_at: datetime | None, received: datetime, source: str
) -> IncomingEvent:
    kind = msg["type"]
    props = flatten(msg.get("properties") or {})
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
        message_id=message_key(msg),
        lead_id=lead_id,
        event=str(name),
        ts=event_time(msg, sent_at, received),
        properties=props,
        context=context,
        source=source,
        is_bot=is_bot(context.get("userAgent")),
    )
