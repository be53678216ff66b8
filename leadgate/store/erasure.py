"""Erasure (right to be forgotten): a lead's personal data and events go, everywhere, in one transaction.

The lead and every lead merged into it, with their identities, events, identify / group / alias
messages, model predictions, scores and history, lifecycle rows, first touch, consent, outbox events and
deliveries with their log, rejected input and audit entries that name them.  Opportunities keep their
amounts (revenue is the company's record) but lose the link to the person and their free-text name.
Accounts (companies) and trained models (aggregate statistics, no lead ids) are not personal data and stay.
One audit entry remains: ``lead.erased`` with a random subject and the count of rows removed per table.

"Name them": a JSON string (or the audit subject) that is one of the person's ids, emails or identity
values, or holds one between non-word characters (``mailto:ann@x.test``, not ``joann@x.test``), ignoring
case.  SQL narrows the rows by text (SQLite keeps JSON with ``\u00e9`` escapes, PostgreSQL compares case);
Python decides on the decoded documents.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from leadgate.errors import NotFoundError
from leadgate.store.clock import utcnow
from leadgate.store.models import (
    AuditEntry,
    Event,
    Identity,
    Lead,
    Message,
    Prediction,
    Rejected,
    Score,
    ScoreHistory,
    StageChange,
)
from leadgate.store.models_lifecycle import (
    Assignment,
    LeadAttribution,
    LeadConsent,
    Opportunity,
    OutboxEvent,
    SalesFeedback,
    WebhookAttempt,
    WebhookDelivery,
)
from leadgate.store.store import Store


def _family(s: Session, lead_id: str) -> list[Lead]:
    """The live lead ``lead_id`` leads to, and every lead merged into it, directly or not."""
    lead = s.get(Lead, lead_id)
    while lead is not None and lead.merged_into:
        lead = s.get(Lead, lead.merged_into)
    if lead is None:
        raise NotFoundError(f"no lead {lead_id!r}")
    family, frontier = [lead], [lead.id]
    while frontier:
        merged = list(s.scalars(select(Lead).where(Lead.merged_into.in_(frontier))))
        family.extend(merged)
        frontier = [m.id for m in merged]
    return family


#: Characters JSON text never escapes, on SQLite (ASCII escapes) and PostgreSQL alike.
_PLAIN = re.compile(r"[A-Za-z0-9@._+:/=-]+")
#: Characters that continue an id or an email: a match must not be preceded or followed by one.
_WORD = re.compile(r"[\w.%+@-]")


def _patterns(value: str) -> set[str]:
    """Text every JSON rendering of a string holding ``value`` contains (compared ignoring ASCII case)."""
    plain = max(_PLAIN.findall(value), key=len, default="")
    if len(plain) >= 4:
        return {plain}
    forms = {value, value.lower(), value.upper(), value.casefold()}
    return forms | {json.dumps(f)[1:-1] for f in forms}


def _strings(doc: Any) -> Iterator[str]:
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for key, item in doc.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(doc, list):
        for item in doc:
            yield from _strings(item)


def _names(doc: Any, values: list[str]) -> bool:
    """Some string in ``doc`` is one of ``values`` (casefolded), or holds one between non-word characters."""
    for text in _strings(doc):
        folded = text.casefold()
        for value in values:
            start = folded.find(value)
            while start >= 0:
                end = start + len(value)
                before = folded[start - 1] if start else ""
                after = folded[end] if end < len(folded) else ""
                if not _WORD.match(before) and not _WORD.match(after):
                    return True
                start = folded.find(value, start + 1)
    return False


def _naming(s: Session, key: Any, columns: list[Any], values: list[str]) -> list[Any]:
    """The keys of rows whose ``columns`` name one of ``values``: a coarse text filter in SQL, then Python."""
    patterns = sorted({p for v in values for p in _patterns(v)})
    coarse = or_(*(cast(c, String).icontains(p, autoescape=True) for c in columns for p in patterns))
    folded = [v.casefold() for v in values]
    return [row[0] for row in s.execute(select(key, *columns).where(coarse)) if _names(list(row[1:]), folded)]


def erase(store: Store, lead_id: str, *, actor: str) -> dict[str, Any]:
    """Erase the person behind ``lead_id``; returns the erasure id and the rows removed per table."""
    with store.session() as s, s.begin():
        family = _family(s, lead_id)
        ids = [lead.id for lead in family]
        identifiers = set(ids)
        identifiers |= {v for lead in family for v in (lead.email, lead.email_normalized) if v}
        identifiers |= set(s.scalars(select(Identity.value).where(Identity.lead_id.in_(ids))))
        values = sorted(identifiers)
        counts: dict[str, int] = {}

        def run(name: str, statement: Any) -> None:
            counts[name] = counts.get(name, 0) + int(s.execute(statement).rowcount)  # type: ignore[attr-defined]

        events = list(s.scalars(select(OutboxEvent.id).where(OutboxEvent.lead_id.in_(ids))))
        events += _naming(s, OutboxEvent.id, [OutboxEvent.payload], values)
        deliveries = select(WebhookDelivery.id).where(
            or_(WebhookDelivery.lead_id.in_(ids), WebhookDelivery.outbox_id.in_(events))
        )
        run("webhook_attempts", delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
        run("webhook_deliveries", delete(WebhookDelivery).where(WebhookDelivery.id.in_(deliveries)))
        run("outbox", delete(OutboxEvent).where(OutboxEvent.id.in_(events)))
        run("sales_feedback", delete(SalesFeedback).where(SalesFeedback.lead_id.in_(ids)))
        run("assignments", delete(Assignment).where(Assignment.lead_id.in_(ids)))
        run("stage_changes", delete(StageChange).where(StageChange.lead_id.in_(ids)))
        run("lead_attribution", delete(LeadAttribution).where(LeadAttribution.lead_id.in_(ids)))
        run("lead_consent", delete(LeadConsent).where(LeadConsent.lead_id.in_(ids)))
        unlink = update(Opportunity).where(Opportunity.lead_id.in_(ids)).values(lead_id=None, name=None)
        run("opportunities_unlinked", unlink)
        run("predictions", delete(Prediction).where(Prediction.lead_id.in_(ids)))
        run("scores", delete(Score).where(Score.lead_id.in_(ids)))
        run("score_history", delete(ScoreHistory).where(ScoreHistory.lead_id.in_(ids)))
        run("events", delete(Event).where(Event.lead_id.in_(ids)))
        messages = _naming(s, Message.id, [Message.payload], values)
        run("messages", delete(Message).where(or_(Message.lead_id.in_(ids), Message.id.in_(messages))))
        run("identities", delete(Identity).where(Identity.lead_id.in_(ids)))
        rejected = _naming(s, Rejected.id, [Rejected.payload, Rejected.problems], values)
        run("rejected", delete(Rejected).where(Rejected.id.in_(rejected)))
        audit = _naming(s, AuditEntry.id, [AuditEntry.subject, AuditEntry.details], values)
        run("audit_log", delete(AuditEntry).where(AuditEntry.id.in_(audit)))
        s.execute(update(Lead).where(Lead.id.in_(ids)).values(merged_into=None))
        run("leads", delete(Lead).where(Lead.id.in_(ids)))
        erasure_id = f"erasure:{secrets.token_hex(8)}"
        s.add(AuditEntry(at=utcnow(), actor=actor, action="lead.erased", subject=erasure_id, details=counts))
    return {"erasure_id": erasure_id, "removed": counts}
