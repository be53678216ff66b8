"""What is in the store right now: the counts ``leadgate status`` and ``GET /api/status`` show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from leadgate.store.clock import utcnow
from leadgate.store.models import Account, DefinitionVersion, Event, Lead, Rejected, Score


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="seconds")


def status(s: Session, url: str) -> dict[str, Any]:
    """Counts of leads (known and anonymous), accounts, events, MQLs and rejected input (and how much of it
    is not replayed yet); when the last event arrived and happened; when scores last changed; the active
    definition; the schema revision and the store at ``url`` (without its password).  ``s`` reads."""
    live = Lead.merged_into.is_(None)
    active = s.scalars(select(DefinitionVersion).where(DefinitionVersion.active)).first()
    count = func.count()
    report = {
        "leads": s.scalar(select(count).select_from(Lead).where(live)),
        "known_leads": s.scalar(select(count).select_from(Lead).where(live, Lead.known)),
        "merged_leads": s.scalar(select(count).select_from(Lead).where(Lead.merged_into.is_not(None))),
        "accounts": s.scalar(select(count).select_from(Account)),
        "events": s.scalar(select(count).select_from(Event)),
        "events_last_24h": s.scalar(
            select(count).select_from(Event).where(Event.received_at >= utcnow() - timedelta(days=1))
        ),
        "mqls": s.scalar(select(count).select_from(Lead).where(live, Lead.stage == "mql")),
        "qualified_now": s.scalar(
            select(count).select_from(Score).join(Lead, Lead.id == Score.lead_id).where(live, Score.qualified)
        ),
        "rejected": s.scalar(select(count).select_from(Rejected)),
        "rejected_pending": s.scalar(select(count).select_from(Rejected).where(Rejected.replayed_at.is_(None))),
        "last_event_at": _iso(s.scalar(select(func.max(Event.received_at)))),
        "last_event_time": _iso(s.scalar(select(func.max(Event.ts)))),
        "last_scored_at": _iso(s.scalar(select(func.max(Score.updated_at)))),
        "active_definition": None
        if active is None
        else {"name": active.name, "version": active.version, "id": active.id},
        "store": make_url(url).render_as_string(hide_password=True),
    }
    report["schema_revision"] = s.scalar(text("SELECT version_num FROM alembic_version"))
    return report
