"""Erasure (right to be forgotten): a lead's personal data and events go, everywhere, in one transaction.

The lead and every lead merged into it, with their identities, events, identify / group / alias messages,
predictions, scores and history, lifecycle rows, first touch, consent, outbox events and deliveries with
their log, rejected input and audit entries that name them.  Opportunities keep their amounts (revenue is
the company's record) but lose the link to the person.  One audit entry remains: ``lead.erased`` with a
random subject and the count of rows removed per table.
"""

from __future__ import annotations

import secrets
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


def _mentions(column: Any, values: list[str]) -> Any:
    """The JSON column holds one of these values as a JSON string (quoted: "L1" does not match "L10")."""
    text = cast(column, String)
    return or_(*(text.contains(f'"{v}"', autoescape=True) for v in values))


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

        events = list(
            s.scalars(
                select(OutboxEvent.id).where(or_(OutboxEvent.lead_id.in_(ids), _mentions(OutboxEvent.payload, ids)))
            )
        )
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
        run("opportunities_unlinked", update(Opportunity).where(Opportunity.lead_id.in_(ids)).values(lead_id=None))
        run("scores", delete(Score).where(Score.lead_id.in_(ids)))
        run("score_history", delete(ScoreHistory).where(ScoreHistory.lead_id.in_(ids)))
        run("events", delete(Event).where(Event.lead_id.in_(ids)))
        run("messages", delete(Message).where(or_(Message.lead_id.in_(ids), _mentions(Message.payload, values))))
        run("predictions", delete(Prediction).where(Prediction.lead_id.in_(ids)))
        run("identities", delete(Identity).where(Identity.lead_id.in_(ids)))
        run("rejected", delete(Rejected).where(_mentions(Rejected.payload, values)))
        run(
            "audit_log",
            delete(AuditEntry).where(or_(AuditEntry.subject.in_(values), _mentions(AuditEntry.details, values))),
        )
        s.execute(update(Lead).where(Lead.id.in_(ids)).values(merged_into=None))
        run("leads", delete(Lead).where(Lead.id.in_(ids)))
        erasure_id = f"erasure:{secrets.token_hex(8)}"
        s.add(AuditEntry(at=utcnow(), actor=actor, action="lead.erased", subject=erasure_id, details=counts))
    return {"erasure_id": erasure_id, "removed": counts}
