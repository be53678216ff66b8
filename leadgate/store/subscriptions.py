"""Webhook subscriptions, the delivery log and replay, over a Store (what the CLI and the API call)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from leadgate.errors import NotFoundError
from leadgate.store import outbox
from leadgate.store.clock import utcnow
from leadgate.store.models import AuditEntry
from leadgate.store.models_lifecycle import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from leadgate.store.payloads import iso
from leadgate.store.store import Store


def to_dict(row: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "event_types": row.event_types.split(),
        "respect_consent": row.respect_consent,
        "require_consent": (row.require_consent or "").split(),
        "active": row.active,
        "created_at": iso(row.created_at),
    }
    if secret:
        doc["secret"] = row.secret
    return doc


def add(
    store: Store,
    *,
    name: str,
    url: str,
    event_types: Iterable[str],
    secret: str | None = None,
    respect_consent: bool = True,
    require_consent: Iterable[str] = (),
    actor: str,
) -> dict[str, Any]:
    """A new subscription; the answer holds its secret (``whsec_...``), the only time it is shown."""
    now = utcnow()
    with store.session() as s, s.begin():
        row = outbox.subscribe(
            s,
            name=name,
            url=url,
            event_types=event_types,
            secret=secret,
            respect_consent=respect_consent,
            require_consent=require_consent,
            now=now,
        )
        s.add(AuditEntry(at=now, actor=actor, action="webhook.subscribed", subject=str(row.id), details={"name": name}))
        return to_dict(row, secret=True)


def list_all(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        return [to_dict(r) for r in s.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))]


def disable(store: Store, subscription_id: int, *, actor: str) -> dict[str, Any]:
    """Stop sending to a subscription; its pending deliveries are cancelled."""
    now = utcnow()
    with store.session() as s, s.begin():
        row = s.get(WebhookSubscription, subscription_id)
        if row is None:
            raise NotFoundError(f"no webhook subscription {subscription_id}")
        row.active, row.disabled_at = False, now
        for d in s.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == row.id, WebhookDelivery.status == "pending"
            )
        ):
            d.status = "cancelled"
        s.add(AuditEntry(at=now, actor=actor, action="webhook.disabled", subject=str(row.id), details={}))
        return to_dict(row)


def deliveries(
    store: Store,
    *,
    status: str | None = None,
    lead_id: str | None = None,
    subscription_id: int | None = None,
    limit: int = 100,
    attempts: bool = False,
) -> list[dict[str, Any]]:
    """The delivery log, newest first (with every attempt when ``attempts``)."""
    with store.session() as s:
        query = (
            select(WebhookDelivery, OutboxEvent)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        if lead_id is not None:
            query = query.where(WebhookDelivery.lead_id == lead_id)
        if subscription_id is not None:
            query = query.where(WebhookDelivery.subscription_id == subscription_id)
        out = []
        for d, ev in s.execute(query).all():
            doc: dict[str, Any] = {
                "id": d.id,
                "webhook_id": ev.event_id,
                "event_type": ev.event_type,
                "lead_id": d.lead_id,
                "subscription_id": d.subscription_id,
                "status": d.status,
                "attempts": d.attempts,
                "created_at": iso(d.created_at),
                "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending" else None,
                "delivered_at": iso(d.delivered_at),
                "last_status": d.last_status,
                "last_error": d.last_error,
            }
            if attempts:
                doc["log"] = [
                    {"at": iso(a.at), "status": a.status_code, "error": a.error, "ms": round(a.duration_ms, 1)}
                    for a in s.scalars(
                        select(WebhookAttempt).where(WebhookAttempt.delivery_id == d.id).order_by(WebhookAttempt.id)
                    )
                ]
            out.append(doc)
        return out


def replay(
    store: Store,
    *,
    delivery_ids: Iterable[int] | None = None,
    subscription_id: int | None = None,
    since: datetime | None = None,
    event_type: str | None = None,
    lead_id: str | None = None,
    status: str | None = None,
    actor: str,
) -> int:
    """Send deliveries again with their original ``webhook-id``; returns how many were queued."""
    now = utcnow()
    with store.session() as s, s.begin():
        count = outbox.replay(
            s,
            now=now,
            delivery_ids=delivery_ids,
            subscription_id=subscription_id,
            since=since,
            event_type=event_type,
            lead_id=lead_id,
            status=status,
        )
        s.add(AuditEntry(at=now, actor=actor, action="webhook.replayed", subject=None, details={"count": count}))
        return count
