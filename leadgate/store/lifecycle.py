"""Lifecycle stages and every move between them (docs/lifecycle.md, "Stages").

    subscriber → lead → mql → sql → opportunity → customer        (forward order)
    recycled, disqualified                                         (beside it)

Automatic moves only go forward (a falling score never un-MQLs a lead; a rising one does not MQL it twice);
a recycled lead becomes an MQL again only on engagement after its recycle (``mql_type`` "reactivated"), and
so does a lead moved back below mql explicitly (engagement after that move); an MQL not accepted in time is
recycled by the timer.  Backward and sideways moves come only from explicit
calls with a reason (``feedback.py``).  Every move is a ``stage_changes`` row, routed and announced through
the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from leadgate.result import LeadScore
from leadgate.store import attribution, consent, outbox, payloads, routing
from leadgate.store.clock import to_micros
from leadgate.store.models import DefinitionVersion, Event, Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, Opportunity, SalesFeedback

FORWARD = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
SIDE = ("recycled", "disqualified")
STAGES = FORWARD + SIDE
PRE_MQL = ("subscriber", "lead")


def ahead(to: str, frm: str) -> bool:
    """``to`` is further along the forward order than ``frm`` (False when either is beside it)."""
    return to in FORWARD and frm in FORWARD and FORWARD.index(to) > FORWARD.index(frm)


def change(
    s: Session,
    lead: Lead,
    to: str,
    *,
    reason: str,
    actor: str,
    cause: str,
    now: datetime,
    definition_version_id: int | None = None,
    details: dict[str, Any] | None = None,
    mql: dict[str, Any] | None = None,
    route: bool = True,
    flush: bool = True,
) -> StageChange:
    """Move ``lead`` to ``to`` and record it; a move to mql is routed; everything is announced.  With
    ``flush=False`` the row is written with the session's next flush unless routing or a webhook needs its
    id now (many moves in one scoring pass then go in one bulk insert)."""
    mql = mql or {}
    row = StageChange(
        lead_id=lead.id,
        from_stage=lead.stage,
        to_stage=to,
        at=now,
        reason=reason,
        actor=actor,
        definition_version_id=definition_version_id,
        details=details or {},
        cause=cause,
        mql_type=mql.get("type"),
        mql_basis=mql.get("basis"),
        mql_motion=mql.get("motion"),
        score=mql.get("score"),
    )
    s.add(row)
    lead.stage = to
    if flush:
        s.flush()
    assignment = None
    if to == "mql" and route and consent.allows_sales_contact(s, lead.id):
        s.flush()
        assignment = routing.assign(s, lead, row, (details or {}).get("score") or {}, now=now)
    elif to in SIDE:
        routing.close_open(s, lead.id, reason=to, now=now)
    if not outbox.wanted(s, "lead.stage_changed", "mql.created", "lead.assigned"):
        return row
    s.flush()
    move = {
        "id": row.id,
        "from": row.from_stage,
        "to": to,
        "at": payloads.iso(now),
        "reason": reason,
        "actor": actor,
        "cause": cause,
        "definition_version_id": definition_version_id,
        "mql_type": row.mql_type,
    }
    context = payloads.lead_context(s, lead, now, full=to == "mql")
    outbox.emit(s, "lead.stage_changed", {**context, "change": move}, lead_id=lead.id, now=now)
    if to == "mql":
        outbox.emit(s, "mql.created", {**context, "change": move}, lead_id=lead.id, now=now)
    if assignment is not None:
        outbox.emit(s, "lead.assigned", {**context, "method": assignment.method}, lead_id=lead.id, now=now)
    return row


def mql_fields(sc: LeadScore, kind: str) -> dict[str, Any]:
    basis = next((t for t in sc.mql_types if t in ("fit", "intent")), None)
    motion = next((t for t in sc.mql_types if t in ("product_led", "sales_led")), None)
    return {"type": kind, "basis": basis, "motion": motion, "score": sc.total}


def engaged_since(s: Session, lead_id: str, since: datetime, event_names: set[str]) -> bool:
    """The lead has a non-bot event of one of these types that happened after ``since``."""
    return bool(
        s.scalar(
            select(
                exists().where(
                    Event.lead_id == lead_id,
                    Event.ts_us > to_micros(since),
                    Event.is_bot.is_(False),
                    Event.event.in_(sorted(event_names)),
                )
            )
        )
    )


def last_change_to(s: Session, lead_id: str, stage: str) -> StageChange | None:
    return s.scalars(
        select(StageChange)
        .where(StageChange.lead_id == lead_id, StageChange.to_stage == stage)
        .order_by(StageChange.at.desc(), StageChange.id.desc())
    ).first()


def demotion(s: Session, lead_id: str) -> StageChange | None:
    """The latest explicit move of the lead back into subscriber or lead from a stage past them (None: none).
    Only explicit moves go there; after one, the old engagement no longer qualifies the lead."""
    return s.scalars(
        select(StageChange)
        .where(
            StageChange.lead_id == lead_id,
            StageChange.to_stage.in_(PRE_MQL),
            StageChange.from_stage.is_not(None),
            StageChange.from_stage.not_in(PRE_MQL),
        )
        .order_by(StageChange.at.desc(), StageChange.id.desc())
    ).first()


def on_score(
    s: Session,
    sc: LeadScore,
    explanation: dict[str, Any],
    *,
    definition_version_id: int,
    engagement_events: set[str],
    actor: str,
    now: datetime,
) -> bool:
    """Apply a fresh score to the lead's stage; True when it became an MQL."""
    if not sc.qualified and sc.engagement <= 0:
        return False  # nothing can move
    lead = s.get(Lead, sc.lead_id)
    if lead is None or lead.merged_into is not None:
        return False
    if sc.qualified:
        if lead.stage in PRE_MQL:
            kind = "new"
            moved_back = demotion(s, lead.id)
            if moved_back is not None:
                if not engaged_since(s, lead.id, moved_back.at, engagement_events):
                    return False
                if last_change_to(s, lead.id, "mql") is not None:
                    kind = "reactivated"
        elif lead.stage == "recycled":
            recycled = last_change_to(s, lead.id, "recycled")
            if recycled is None or not engaged_since(s, lead.id, recycled.at, engagement_events):
                return False
            kind = "reactivated"
        else:
            return False
        change(
            s,
            lead,
            "mql",
            reason="qualified:" + ",".join(sc.qualified_by),
            actor=actor,
            cause="score",
            now=now,
            definition_version_id=definition_version_id,
            details={"score": explanation},
            mql=mql_fields(sc, kind),
        )
        return True
    if lead.stage == "subscriber" and lead.known and sc.engagement > 0:
        change(
            s,
            lead,
            "lead",
            reason="engaged",
            actor=actor,
            cause="score",
            now=now,
            definition_version_id=definition_version_id,
            flush=False,
        )
    return False


def load_leads(s: Session, lead_ids: list[str]) -> list[Lead]:
    """Bring these leads into the session in one query, so ``on_score`` reads them without one each.  The
    session holds its objects weakly: keep the returned list while they are used."""
    leads: list[Lead] = []
    for start in range(0, len(lead_ids), 500):
        leads.extend(s.scalars(select(Lead).where(Lead.id.in_(lead_ids[start : start + 500]))).all())
    return leads


def on_merge(s: Session, loser: Lead, survivor: Lead, *, actor: str, now: datetime) -> None:
    """The survivor takes the loser's lifecycle: history, assignments, feedback, deals, first touch,
    consent, and its stage when that is further along (or a sales decision on a pre-MQL survivor)."""
    for model in (StageChange, Assignment, SalesFeedback, Opportunity):
        s.execute(update(model).where(model.lead_id == loser.id).values(lead_id=survivor.id))
    attribution.merge(s, loser.id, survivor.id)
    consent.merge(s, loser.id, survivor.id, now)
    s.flush()
    if ahead(loser.stage, survivor.stage) or (survivor.stage in PRE_MQL and loser.stage in SIDE):
        change(
            s,
            survivor,
            loser.stage,
            reason="merged",
            actor=actor,
            cause="merge",
            now=now,
            definition_version_id=s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active)),
            details={"merged": loser.id},
            route=False,
        )
    if outbox.wanted(s, "lead.merged"):
        context = payloads.lead_context(s, survivor, now, full=False)
        outbox.emit(s, "lead.merged", {**context, "merged": loser.id}, lead_id=survivor.id, now=now)


# -- timers ------------------------------------------------------------------------------------------------


def breach_due(s: Session, now: datetime) -> list[int]:
    """Mark open (untouched) assignments past their SLA as breached and announce each; their ids."""
    due = list(
        s.scalars(
            select(Assignment)
            .where(Assignment.status == "open", Assignment.breached_at.is_(None), Assignment.sla_due_at <= now)
            .order_by(Assignment.sla_due_at)
            .with_for_update(skip_locked=True)  # two timers (serve and the CLI) never breach one twice
        )
    )
    for a in due:
        a.breached_at = now
        lead = s.get(Lead, a.lead_id)
        if lead is not None and outbox.wanted(s, "sla.breached"):
            context = payloads.lead_context(s, lead, now, full=True)
            late = (now - a.sla_due_at).total_seconds() if a.sla_due_at else 0.0
            data = {**context, **payloads.assignment_doc(a), "breached_at": payloads.iso(now), "late_seconds": late}
            outbox.emit(s, "sla.breached", data, lead_id=lead.id, now=now)
    return [a.id for a in due]


def _mql_since():  # type: ignore[no-untyped-def]
    """Each lead in mql with the time of its latest move to mql."""
    return (
        select(StageChange.lead_id, func.max(StageChange.at).label("at"))
        .join(Lead, Lead.id == StageChange.lead_id)
        .where(StageChange.to_stage == "mql", Lead.stage == "mql", Lead.merged_into.is_(None))
        .group_by(StageChange.lead_id)
    )


def recycle_due(s: Session, now: datetime, *, definition_version_id: int | None = None) -> list[str]:
    """Recycle MQLs not accepted within the routing file's ``recycle_unaccepted_after``; their ids."""
    _row, settings = routing.active(s)
    after = settings.lifecycle.recycle_unaccepted_after
    if after is None:
        return []
    cutoff = now - timedelta(seconds=after)
    since = _mql_since().subquery()
    ids = list(s.scalars(select(since.c.lead_id).where(since.c.at <= cutoff).order_by(since.c.at)))
    for lead_id in ids:
        lead = s.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.stage != "mql":
            continue
        change(
            s,
            lead,
            "recycled",
            reason="not_accepted",
            actor="system",
            cause="timer",
            now=now,
            definition_version_id=definition_version_id,
            details={"after_seconds": after},
        )
    return ids


def next_due(s: Session) -> datetime | None:
    """The earliest instant a timer has something to do (an SLA to breach, an MQL to recycle)."""
    candidates: list[datetime] = []
    sla = s.scalar(
        select(func.min(Assignment.sla_due_at)).where(Assignment.status == "open", Assignment.breached_at.is_(None))
    )
    if sla is not None:
        candidates.append(sla)
    _row, settings = routing.active(s)
    after = settings.lifecycle.recycle_unaccepted_after
    if after is not None:
        since = _mql_since().subquery()
        oldest = s.scalar(select(func.min(since.c.at)))
        if oldest is not None:
            candidates.append(oldest + timedelta(seconds=after))
    return min(candidates) if candidates else None
