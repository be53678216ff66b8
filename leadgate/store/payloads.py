"""What a webhook says about a lead: enough for a good first conversation.

Score and its breakdown, recent engagement (what they read, which pages, how often), first touch,
owner and SLA due time, consent.  Built inside the transaction of the change, so it describes the lead as
that change left it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.store.clock import to_micros
from leadgate.store.models import Event, Lead, Score
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, LeadConsent

RECENT_EVENTS = 20
ENGAGEMENT_WINDOW = timedelta(days=30)
#: Event properties that tell what a person looked at.
WHAT = ("path", "title", "url", "name", "asset_type", "asset", "webinar", "plan", "category")
#: Traits worth showing a salesperson.
TRAITS = ("first_name", "last_name", "name", "title", "phone", "country", "company", "industry", "seniority")


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat() + "Z"


def open_assignment(s: Session, lead_id: str) -> Assignment | None:
    return s.scalars(
        select(Assignment)
        .where(Assignment.lead_id == lead_id, Assignment.status.in_(("open", "touched")))
        .order_by(Assignment.id.desc())
    ).first()


def assignment_doc(a: Assignment | None) -> dict[str, Any]:
    if a is None:
        return {"owner": None, "team": None, "route": None, "sla_due_at": None, "assignment_id": None}
    return {
        "owner": a.owner,
        "team": a.team,
        "route": a.route,
        "sla_due_at": iso(a.sla_due_at),
        "assignment_id": a.id,
    }


def consent_doc(row: LeadConsent | None) -> dict[str, bool | None]:
    if row is None:
        return {"email": None, "sms": None, "sales_contact": None}
    return {"email": row.email, "sms": row.sms, "sales_contact": row.sales_contact}


def engagement(s: Session, lead_id: str, now: datetime) -> dict[str, Any]:
    since = to_micros(now - ENGAGEMENT_WINDOW)
    rows = s.execute(
        select(Event.event, Event.ts, Event.properties)
        .where(Event.lead_id == lead_id, Event.ts_us >= since, Event.is_bot.is_(False))
        .order_by(Event.ts_us.desc())
        .limit(1000)
    ).all()
    events = Counter(name for name, _, _ in rows)
    pages = Counter(str(p["path"]) for name, _, p in rows if name == "page_view" and p.get("path") is not None)
    recent = [
        {"event": name, "at": iso(ts), **{k: props[k] for k in WHAT if props.get(k) is not None}}
        for name, ts, props in rows[:RECENT_EVENTS]
    ]
    return {
        "window_days": ENGAGEMENT_WINDOW.days,
        "events": dict(events.most_common()),
        "pages": dict(pages.most_common(10)),
        "recent": recent,
        "last_seen_at": iso(rows[0][1]) if rows else None,
    }


def first_touch(s: Session, lead_id: str) -> dict[str, Any] | None:
    row = s.get(LeadAttribution, lead_id)
    if row is None:
        return None
    return {
        "channel": row.channel,
        "source": row.source,
        "medium": row.medium,
        "campaign": row.campaign,
        "referrer": row.referrer,
        "landing_page": row.landing_page,
        "at": iso(row.first_seen_at),
    }


def score_doc(s: Session, lead_id: str) -> dict[str, Any] | None:
    row = s.get(Score, lead_id)
    if row is None:
        return None
    return {**row.explanation, "definition_version_id": row.definition_version_id, "as_of": iso(row.as_of)}


def lead_context(s: Session, lead: Lead, now: datetime, *, full: bool = True) -> dict[str, Any]:
    """The lead as a webhook shows it; ``full`` adds score, engagement and first touch."""
    doc: dict[str, Any] = {
        "lead": {
            "id": lead.id,
            "email": lead.email,
            "stage": lead.stage,
            "account_id": lead.account_id,
            "traits": {k: lead.traits[k] for k in TRAITS if lead.traits.get(k) is not None},
        },
        **assignment_doc(open_assignment(s, lead.id)),
        "consent": consent_doc(s.get(LeadConsent, lead.id)),
    }
    if full:
        doc["score"] = score_doc(s, lead.id)
        doc["engagement"] = engagement(s, lead.id, now)
        doc["first_touch"] = first_touch(s, lead.id)
    return doc
