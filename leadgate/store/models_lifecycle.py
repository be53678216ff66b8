"""Tables of the lifecycle after qualification (issue 4): routing and SLAs, sales feedback, revenue,
attribution, consent and the webhook outbox.  ``docs/lifecycle.md`` describes every column; the funnel
reports read these tables directly, so names only ever grow (additive changes).

Imported by ``models.py`` so that ``Base.metadata`` holds every table of the store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadgate.store.models import Base

#: Auto-incrementing 64-bit keys (plain INTEGER on SQLite, where only that autoincrements).
BigId = BigInteger().with_variant(Integer, "sqlite")
#: The consent flags of ``lead_consent`` (and what a webhook subscription may require).
CONSENT_FLAGS = ("email", "sms", "sales_contact")


class LeadAttribution(Base):
    """First touch: where a lead first came from (the earliest event carrying campaign or referrer data)."""

    __tablename__ = "lead_attribution"

    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    medium: Mapped[str | None] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(200), index=True)
    content: Mapped[str | None] = mapped_column(String(200))
    term: Mapped[str | None] = mapped_column(String(200))
    referrer: Mapped[str | None] = mapped_column(String(1000))
    landing_page: Mapped[str | None] = mapped_column(String(1000))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LeadConsent(Base):
    """Consent per lead: True given, False refused, NULL never stated (treated as allowed)."""

    __tablename__ = "lead_consent"

    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    email: Mapped[bool | None] = mapped_column(Boolean)
    sms: Mapped[bool | None] = mapped_column(Boolean)
    sales_contact: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))  # "traits" or "api": what set it last
    updated_at: Mapped[datetime]


class RoutingVersion(Base):
    """A routing file (teams, routes with SLAs, reason codes, auto-recycle), versioned like definitions."""

    __tablename__ = "routing_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class RoutingCursor(Base):
    """Round-robin position per team, advanced in the same transaction as the assignment it made."""

    __tablename__ = "routing_cursors"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class Assignment(Base):
    """A lead routed to a team and owner, with its SLA and what happened to it (speed to lead, breach)."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_lead_at", "lead_id", "assigned_at"),
        Index("ix_assignments_due", "status", "sla_due_at"),
        Index("ix_assignments_owner_status", "owner", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    stage_change_id: Mapped[int | None] = mapped_column(ForeignKey("stage_changes.id"))
    routing_version_id: Mapped[int | None] = mapped_column(ForeignKey("routing_versions.id"))
    route: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))  # round_robin, least_loaded, queue, manual
    assigned_at: Mapped[datetime]
    sla_seconds: Mapped[float | None] = mapped_column(Float)
    sla_due_at: Mapped[datetime | None]
    first_touch_at: Mapped[datetime | None]
    first_touch_by: Mapped[str | None] = mapped_column(String(200))
    first_touch_channel: Mapped[str | None] = mapped_column(String(32))
    speed_to_lead_seconds: Mapped[float | None] = mapped_column(Float)
    breached_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # open, touched, closed
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(64))


class SalesFeedback(Base):
    """What sales said about a lead: accept, reject, recycle, first touch or an explicit stage move."""

    __tablename__ = "sales_feedback"
    __table_args__ = (Index("ix_sales_feedback_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    action: Mapped[str] = mapped_column(String(16), index=True)  # accept, reject, recycle, touch, move
    reason: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    stage_change_id: Mapped[int | None] = mapped_column(ForeignKey("stage_changes.id"))


class Opportunity(Base):
    """A deal from the CRM, linked to a lead and / or an account; ``won`` moves its lead to customer."""

    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the CRM's id
    name: Mapped[str | None] = mapped_column(String(300))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[float] = mapped_column(Numeric(18, 2, asdecimal=False))
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(64))  # the CRM's stage name
    status: Mapped[str] = mapped_column(String(8), index=True)  # open, won, lost
    close_date: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # api or csv
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookSubscription(Base):
    """An endpoint and the event types it receives; ``secret`` (whsec_...) signs every delivery.  It gets
    no lead events (but ``consent.changed``) about a lead that refused a flag it needs (``outbox.needs``)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[str] = mapped_column(String(1000))  # space separated; "*" for all
    respect_consent: Mapped[bool] = mapped_column(Boolean, default=True)  # requires sales_contact
    # migration 0006: more consent flags the endpoint needs (space separated, e.g. "email"; NULL: none)
    require_consent: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class OutboxEvent(Base):
    """One domain event, written in the same transaction as the change it reports.  ``event_id`` is the
    stable webhook id (``webhook-id``) every retry and replay carries."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_lead_id", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    lead_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)


class WebhookDelivery(Base):
    """One outbox event for one subscription: its state, retry schedule and lease."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("outbox_id", "subscription_id"),
        Index("ix_webhook_deliveries_ready", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_chain", "subscription_id", "lead_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    lead_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]


class WebhookAttempt(Base):
    """The delivery log: every HTTP attempt with its outcome."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[float] = mapped_column(Float)
    response: Mapped[str | None] = mapped_column(String(500))
