"""The store's tables (SQLAlchemy 2).  Migrations in ``leadgate/store/migrations`` create them.

Times are kept two ways where scoring reads them: a ``DateTime`` for people and reports, and exact epoch
microseconds (``*_us``, BIGINT) for the compiled scoring SQL, which needs the same instant on SQLite and
PostgreSQL without float drift.  Traits and event properties are JSON documents; scoring presents the
fields a definition reads as typed columns (``leadgate/store/views.py``).

The lifecycle, routing, feedback and revenue tables of issue 4 are in ``models_lifecycle.py`` (imported at the
end of this module); they hang off ``leads`` (stage), ``stage_changes`` (every move, with reason, actor and
definition version) and ``audit_log``.  ``docs/lifecycle.md`` describes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON().with_variant(JSONB(), "postgresql"),
        datetime: DateTime(timezone=False),
    }


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    known: Mapped[bool] = mapped_column(Boolean, default=False)  # identified (not only an anonymous visitor)
    stage: Mapped[str] = mapped_column(String(32), default="subscriber", index=True)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    created_at: Mapped[datetime]
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class Identity(Base):
    """An identifier that resolves to a lead: an anonymous id, a user id or a normalized email."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    created_at: Mapped[datetime]


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_lead_ts", "lead_id", "ts_us"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    event: Mapped[str] = mapped_column(String(200), index=True)
    ts: Mapped[datetime]
    ts_us: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)


class Message(Base):
    """A Segment identify, group or alias message as it was accepted (track, page and screen messages are
    ``events``): kept raw, and idempotent by message id, so a retried one is recognised and not applied
    again (migration 0007)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]


class Prediction(Base):
    """A model's probability of the outcome for a lead, with its top factors (written by ``leadgate
    predict``).  Definitions read it with ``predicted`` conditions: the latest of a model scored at or
    before the as-of instant (``scored_us``, exact microseconds like ``events.ts_us``)."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_lead_model_at", "lead_id", "model", "scored_us"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(64))
    probability: Mapped[float] = mapped_column(Float)
    factors: Mapped[list[Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=list)
    scored_at: Mapped[datetime]
    scored_us: Mapped[int] = mapped_column(BigInteger)


class DefinitionVersion(Base):
    __tablename__ = "definition_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Score(Base):
    """The current score of each lead under the active definition, with its explanation."""

    __tablename__ = "scores"

    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    as_of: Mapped[datetime]
    fit: Mapped[float] = mapped_column(Float)
    engagement: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    qualified: Mapped[bool] = mapped_column(Boolean, index=True)
    grade: Mapped[str] = mapped_column(String(1))
    level: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ScoreHistory(Base):
    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_lead_at", "lead_id", "as_of"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    as_of: Mapped[datetime]
    total: Mapped[float] = mapped_column(Float)
    qualified: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[dict[str, Any]]


class StageChange(Base):
    """Every lifecycle move: lead, from, to, when, why, who, and under which definition version."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_lead_at", "lead_id", "at"),
        Index("ix_stage_changes_to_at", "to_stage", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    definition_version_id: Mapped[int | None] = mapped_column(ForeignKey("definition_versions.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # issue 4 (migration 0004): what caused the move, and on moves to "mql" its type and score
    cause: Mapped[str | None] = mapped_column(String(16))  # score, feedback, timer, opportunity, merge, api
    mql_type: Mapped[str | None] = mapped_column(String(16))  # new or reactivated (moves to mql only)
    mql_basis: Mapped[str | None] = mapped_column(String(16))  # fit or intent
    mql_motion: Mapped[str | None] = mapped_column(String(16))  # product_led or sales_led
    score: Mapped[float | None] = mapped_column(Float)


class Rejected(Base):
    """Input that was not accepted, kept with its reasons so it can be listed, fixed and replayed."""

    __tablename__ = "rejected"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    problems: Mapped[dict[str, Any]]
    replayed_at: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[str] = mapped_column(String(200))  # "write" or "admin", space separated
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TrainedModel(Base):
    """A trained predictive model (``leadgate predict train --database``): its JSON document by name and
    content version; ``leadgate/store/trained_models.py`` keeps and finds them."""

    __tablename__ = "trained_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    trained_at: Mapped[datetime]
    created_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]


from leadgate.store import models_lifecycle as _lifecycle  # noqa: E402, F401  (registers its tables on Base)
