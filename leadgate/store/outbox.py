"""The webhook outbox: events written in the same transaction as the change they report, fanned out to the
subscriptions that want them, and the bookkeeping of their delivery (leases, retries, the delivery log).

The HTTP side (signing, posting, the worker thread) is ``leadgate/service/webhooks.py``; everything here
works on a session the caller owns, so an event exists exactly when its change was committed.

Ordering: an outbox row is inserted after its lead's row is locked (PostgreSQL ``FOR UPDATE``; SQLite
writers are serialized anyway), so a lead's events get increasing ids in commit order, and a delivery is
only handed out when no earlier delivery for the same subscription and lead is still pending.
"""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from leadgate.errors import LeadgateError
from leadgate.store import signals
from leadgate.store.models import Lead
from leadgate.store.models_lifecycle import (
    CONSENT_FLAGS,
    LeadConsent,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

EVENT_TYPES = (
    "mql.created",
    "lead.stage_changed",
    "lead.assigned",
    "lead.first_touched",
    "sla.breached",
    "lead.merged",
    "opportunity.updated",
    "consent.changed",
)
#: Sent to every subscription whatever the lead's consent: the CRM must learn of a withdrawal.
CONSENT_EXEMPT = frozenset({"consent.changed"})
MAX_BACKOFF = 3600.0


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_secret(secret: str) -> str:
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = b""
    if not secret.startswith("whsec_") or len(key) < 16:
        raise LeadgateError("secret: expected 'whsec_' and at least 16 bytes in base64 (leave it out to get one)")
    return secret


def check_event_types(types: Iterable[str]) -> list[str]:
    wanted = [t.strip() for t in types if t.strip()]
    unknown = [t for t in wanted if t != "*" and t not in EVENT_TYPES]
    if not wanted or unknown:
        raise LeadgateError(
            f"event types: expected '*' or any of {', '.join(EVENT_TYPES)}; found {', '.join(unknown) or 'none'}"
        )
    return wanted


def check_consent_flags(flags: Iterable[str]) -> list[str]:
    wanted = sorted({f.strip() for f in flags if f.strip()})
    unknown = [f for f in wanted if f not in CONSENT_FLAGS]
    if unknown:
        raise LeadgateError(f"require consent: expected any of {', '.join(CONSENT_FLAGS)}; found {', '.join(unknown)}")
    return wanted


def subscribe(
    s: Session,
    *,
    name: str,
    url: str,
    event_types: Iterable[str],
    secret: str | None = None,
    respect_consent: bool = True,
    require_consent: Iterable[str] = (),
    now: datetime,
) -> WebhookSubscription:
    if not url.startswith(("http://", "https://")):
        raise LeadgateError(f"url: expected an http:// or https:// URL, found {url!r}")
    required = check_consent_flags(require_consent)
    row = WebhookSubscription(
        name=name,
        url=url,
        secret=check_secret(secret) if secret else new_secret(),
        event_types=" ".join(check_event_types(event_types)),
        respect_consent=respect_consent,
        require_consent=" ".join(required) or None,
        active=True,
        created_at=now,
    )
    s.add(row)
    s.flush()
    s.info.pop("webhook_subscriptions", None)
    return row


def _wants(sub: WebhookSubscription, event_type: str) -> bool:
    types = sub.event_types.split()
    return "*" in types or event_type in types


def needs(sub: WebhookSubscription) -> frozenset[str]:
    """The consent flags a subscription needs: ``sales_contact`` when it respects consent, and those it
    requires.  A lead that refused one of them (False; NULL is allowed) is not sent to it."""
    flags = set((sub.require_consent or "").split())
    if sub.respect_consent:
        flags.add("sales_contact")
    return frozenset(flags)


def refused(consent: LeadConsent | None) -> frozenset[str]:
    """The flags a lead refused."""
    if consent is None:
        return frozenset()
    return frozenset(f for f in CONSENT_FLAGS if getattr(consent, f) is False)


def subscriptions(s: Session) -> list[WebhookSubscription]:
    """The active subscriptions, read once per session."""
    subs: list[WebhookSubscription] | None = s.info.get("webhook_subscriptions")
    if subs is None:
        subs = list(s.scalars(select(WebhookSubscription).where(WebhookSubscription.active)))
        s.info["webhook_subscriptions"] = subs
    return subs


def wanted(s: Session, *event_types: str) -> bool:
    """Some active subscription wants one of these event types (else payloads need not be built)."""
    return any(_wants(sub, t) for sub in subscriptions(s) for t in event_types)


def emit(
    s: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    lead_id: str | None = None,
    now: datetime,
) -> OutboxEvent | None:
    """Record one event for every active subscription that wants it (none: nothing is written)."""
    targets = [sub for sub in subscriptions(s) if _wants(sub, event_type)]
    if targets and lead_id is not None and event_type not in CONSENT_EXEMPT:
        no = refused(s.get(LeadConsent, lead_id))
        if no:
            targets = [sub for sub in targets if not needs(sub) & no]
    if not targets:
        return None
    if lead_id is not None and s.bind is not None and s.get_bind().dialect.name == "postgresql":
        locked = s.info.setdefault("outbox_locked", set())
        if lead_id not in locked:
            s.execute(select(Lead.id).where(Lead.id == lead_id).with_for_update())
            locked.add(lead_id)
    row = OutboxEvent(
        event_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        lead_id=lead_id,
        payload={"type": event_type, "timestamp": now.isoformat() + "Z", "data": data},
        created_at=now,
    )
    s.add(row)
    s.flush()
    for sub in targets:
        s.add(
            WebhookDelivery(
                outbox_id=row.id,
                subscription_id=sub.id,
                lead_id=lead_id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    signals.raise_after_commit(s, signals.OUTBOX)
    return row


@dataclass(frozen=True)
class Job:
    """One delivery handed to a worker: where to post, how to sign, what to send."""

    delivery_id: int
    url: str
    secret: str
    event_id: str
    payload: dict[str, Any]
    attempts: int


def claim(s: Session, *, worker: str, now: datetime, limit: int = 100, lease: float = 60.0) -> list[Job]:
    """Lease up to ``limit`` deliveries that are due and first in their lead's line for that subscription."""
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        and_(
            earlier.subscription_id == WebhookDelivery.subscription_id,
            earlier.lead_id == WebhookDelivery.lead_id,
            earlier.status == "pending",
            earlier.id < WebhookDelivery.id,
        )
    )
    free = (WebhookDelivery.locked_until.is_(None)) | (WebhookDelivery.locked_until < now)
    rows = s.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookSubscription, OutboxEvent)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free, ~blocked)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    ).all()
    jobs: list[Job] = []
    until = now + timedelta(seconds=lease)
    for delivery_id, attempts, sub, ev in rows:
        taken = s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending", free)
            .values(locked_until=until, locked_by=worker)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            jobs.append(Job(delivery_id, sub.url, sub.secret, ev.event_id, ev.payload, attempts))
    return jobs


def backoff(attempts: int, base: float = 1.0) -> float:
    """Seconds before retry number ``attempts``: base doubling per attempt, at most an hour, ±20% jitter."""
    delay = min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))
    return float(delay * random.uniform(0.8, 1.2))


def record(
    s: Session,
    job: Job,
    *,
    now: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: float,
    response: str | None = None,
    base_delay: float = 1.0,
    max_age: float = 3 * 86400,
) -> str:
    """Log one attempt and move the delivery on: delivered on a 2xx, else retried later or, past
    ``max_age`` seconds since it was created, dead.  Returns the new status."""
    row = s.get(WebhookDelivery, job.delivery_id)
    if row is None:  # erased meanwhile
        return "gone"
    ok = status_code is not None and 200 <= status_code < 300
    s.add(
        WebhookAttempt(
            delivery_id=row.id,
            at=now,
            status_code=status_code,
            error=None if error is None else error[:500],
            duration_ms=duration_ms,
            response=None if response is None else response[:500],
        )
    )
    row.attempts += 1
    row.last_attempt_at, row.last_status, row.last_error = now, status_code, None if error is None else error[:500]
    row.locked_until = row.locked_by = None
    if ok:
        row.status, row.delivered_at = "delivered", now
    elif (now - row.created_at).total_seconds() >= max_age:
        row.status = "dead"
    else:
        row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts, base_delay))
    return row.status


def next_due(s: Session) -> datetime | None:
    """When the earliest pending delivery is due (None: nothing pending)."""
    return s.scalar(select(func.min(WebhookDelivery.next_attempt_at)).where(WebhookDelivery.status == "pending"))


def replay(
    s: Session,
    *,
    now: datetime,
    delivery_ids: Iterable[int] | None = None,
    subscription_id: int | None = None,
    since: datetime | None = None,
    event_type: str | None = None,
    lead_id: str | None = None,
    status: str | None = None,
) -> int:
    """Send deliveries again (same ``webhook-id``): they become pending and due now.  Returns how many."""
    query = select(WebhookDelivery.id).join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
    ids = list(delivery_ids or [])
    if ids:
        query = query.where(WebhookDelivery.id.in_(ids))
    elif subscription_id is None and since is None and event_type is None and lead_id is None and status is None:
        raise LeadgateError("replay: name deliveries, or filter by subscription, since, event type, lead or status")
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if since is not None:
        query = query.where(OutboxEvent.created_at >= since)
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    if lead_id is not None:
        query = query.where(WebhookDelivery.lead_id == lead_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    chosen = list(s.scalars(query))
    if ids and len(chosen) != len(set(ids)):
        missing = sorted(set(ids) - set(chosen))
        raise LeadgateError(f"no webhook deliveries {', '.join(map(str, missing))}")
    if chosen:
        s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(chosen))
            .values(status="pending", next_attempt_at=now, locked_until=None, locked_by=None)
        )
        signals.raise_after_commit(s, signals.OUTBOX)
    return len(chosen)


def cancel_for_lead(s: Session, lead_id: str, *, refused_flags: Iterable[str]) -> int:
    """Drop a lead's pending deliveries to the subscriptions that need one of the flags it refused: they
    become ``cancelled``; the announcements of consent changes stay (everyone must learn of a withdrawal)."""
    no = frozenset(refused_flags)
    subs = [sub.id for sub in s.scalars(select(WebhookSubscription)) if needs(sub) & no]
    if not subs:
        return 0
    exempt = exists().where(OutboxEvent.id == WebhookDelivery.outbox_id, OutboxEvent.event_type.in_(CONSENT_EXEMPT))
    query = update(WebhookDelivery).where(
        WebhookDelivery.lead_id == lead_id,
        WebhookDelivery.status == "pending",
        WebhookDelivery.subscription_id.in_(subs),
        ~exempt,
    )
    result = s.execute(query.values(status="cancelled", locked_until=None, locked_by=None))
    return int(result.rowcount)  # type: ignore[attr-defined]
