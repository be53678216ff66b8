"""Sales feedback: accept an MQL (→ sql), reject it (→ disqualified), recycle it (→ recycled), record the
first touch, or move a lead explicitly; consent set through the API.  Each call is one transaction: the
``sales_feedback`` row, the stage change, assignment updates and the webhooks.

Reason codes come from the active routing file (``reasons``), with defaults when none is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.errors import LeadgateError, LifecycleError, NotFoundError
from leadgate.store import consent, lifecycle, outbox, payloads, routing
from leadgate.store.clock import utcnow
from leadgate.store.models import DefinitionVersion, Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, SalesFeedback
from leadgate.store.store import Store

ACCEPT_FROM = ("mql",)
REJECT_FROM = ("subscriber", "lead", "mql", "sql", "recycled", "opportunity")
RECYCLE_FROM = ("lead", "mql", "sql", "opportunity")
#: How far in the future a first touch may be (the CRM's clock ahead of ours); such a time counts as now.
CLOCK_SKEW = timedelta(seconds=60)


@dataclass
class Outcome:
    lead_id: str
    stage: str
    stage_change_id: int | None = None
    assignment_id: int | None = None
    speed_to_lead_seconds: float | None = None
    sla_met: bool | None = None  # first touch: touched by the SLA due time (None: no SLA, or not a touch)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def live_lead(s: Session, lead_id: str) -> Lead:
    """The lead, following merges; NotFoundError when there is none."""
    lead = s.get(Lead, lead_id)
    while lead is not None and lead.merged_into:
        lead = s.get(Lead, lead.merged_into)
    if lead is None:
        raise NotFoundError(f"no lead {lead_id!r}")
    return lead


def _active_version(s: Session) -> int | None:
    return s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active))


def _check_reason(s: Session, action: str, reason: str | None) -> str:
    _row, settings = routing.active(s)
    allowed: list[str] | None = getattr(settings.reasons, action)
    if not reason:
        raise LeadgateError(f"reason: a {action} needs a reason code" + (f" ({', '.join(allowed)})" if allowed else ""))
    if allowed is not None and reason not in allowed:
        raise LeadgateError(f"reason: {reason!r} is not a {action} reason; expected one of {', '.join(allowed)}")
    return reason


def _feedback(
    s: Session,
    lead: Lead,
    action: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    note: str | None = None,
    change: StageChange | None = None,
    assignment: Assignment | None = None,
) -> None:
    current = assignment or payloads.open_assignment(s, lead.id)
    s.add(
        SalesFeedback(
            lead_id=lead.id,
            action=action,
            reason=reason,
            note=note,
            actor=actor,
            at=now,
            assignment_id=None if current is None else current.id,
            stage_change_id=None if change is None else change.id,
        )
    )


def _move(
    store: Store,
    lead_id: str,
    action: str,
    to: str,
    allowed_from: tuple[str, ...],
    *,
    actor: str,
    reason: str | None,
    note: str | None,
) -> Outcome:
    now = utcnow()
    with store.session() as s, s.begin():
        lead = live_lead(s, lead_id)
        if action != "accept":  # accepting needs no reason code; a given one is kept as written
            reason = _check_reason(s, action, reason)
        if lead.stage not in allowed_from:
            raise LifecycleError(
                f"cannot {action} lead {lead.id!r}: it is {lead.stage}; expected {' or '.join(allowed_from)}"
            )
        assignment = payloads.open_assignment(s, lead.id)
        row = lifecycle.change(
            s,
            lead,
            to,
            reason=reason or "accepted",
            actor=actor,
            cause="feedback",
            now=now,
            definition_version_id=_active_version(s),
            details={"note": note} if note else {},
        )
        _feedback(s, lead, action, actor=actor, now=now, reason=reason, note=note, change=row, assignment=assignment)
        return Outcome(lead.id, lead.stage, row.id, None if assignment is None else assignment.id)


def accept(store: Store, lead_id: str, *, actor: str, reason: str | None = None, note: str | None = None) -> Outcome:
    """Sales accepts the MQL: it becomes an SQL."""
    return _move(store, lead_id, "accept", "sql", ACCEPT_FROM, actor=actor, reason=reason, note=note)


def reject(store: Store, lead_id: str, *, reason: str, actor: str, note: str | None = None) -> Outcome:
    """Sales rejects the lead with a reason code: it is disqualified."""
    return _move(store, lead_id, "reject", "disqualified", REJECT_FROM, actor=actor, reason=reason, note=note)


def recycle(store: Store, lead_id: str, *, reason: str, actor: str, note: str | None = None) -> Outcome:
    """Back to marketing with a reason code; it can MQL again on new engagement (reactivated)."""
    return _move(store, lead_id, "recycle", "recycled", RECYCLE_FROM, actor=actor, reason=reason, note=note)


def move(store: Store, lead_id: str, *, to: str, reason: str, actor: str, note: str | None = None) -> Outcome:
    """An explicit move to any stage (backward or sideways too), with a reason."""
    if to not in lifecycle.STAGES:
        raise LeadgateError(f"to: expected one of {', '.join(lifecycle.STAGES)}, found {to!r}")
    now = utcnow()
    with store.session() as s, s.begin():
        lead = live_lead(s, lead_id)
        reason = _check_reason(s, "move", reason)
        if lead.stage == to:
            raise LifecycleError(f"lead {lead.id!r} is already {to}")
        row = lifecycle.change(
            s,
            lead,
            to,
            reason=reason,
            actor=actor,
            cause="api",
            now=now,
            definition_version_id=_active_version(s),
            details={"note": note} if note else {},
            mql={"type": "manual"} if to == "mql" else None,
        )
        _feedback(s, lead, "move", actor=actor, now=now, reason=reason, note=note, change=row)
        return Outcome(lead.id, lead.stage, row.id)


def touch(
    store: Store,
    lead_id: str,
    *,
    actor: str,
    channel: str | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Outcome:
    """Record sales' first touch: speed to lead is measured from the assignment.  A lead routed outside
    leadgate gets a ``manual`` assignment dated at its latest MQL.  Later touches are logged, not timed.
    ``at`` may not be before the assignment (or that MQL), nor more than ``CLOCK_SKEW`` in the future."""
    now = utcnow()
    when = at or now
    if when > now + CLOCK_SKEW:
        raise LeadgateError(
            f"at: {payloads.iso(when)} is in the future (now {payloads.iso(now)}); expected when the touch happened"
        )
    when = min(when, now)
    with store.session() as s, s.begin():
        lead = live_lead(s, lead_id)
        a = payloads.open_assignment(s, lead.id)
        if a is None:
            mql = lifecycle.last_change_to(s, lead.id, "mql")
            if mql is None:
                raise LifecycleError(f"lead {lead.id!r} was never an MQL: there is nothing to touch")
            a = Assignment(
                lead_id=lead.id,
                stage_change_id=mql.id,
                route="manual",
                team="manual",
                owner=actor,
                method="manual",
                assigned_at=mql.at,
                status="open",
            )
            s.add(a)
            s.flush()
        if at is not None and when < a.assigned_at:
            since = "became an MQL" if a.method == "manual" else "was assigned"
            raise LeadgateError(
                f"at: {payloads.iso(when)} is before lead {lead.id!r} {since} ({payloads.iso(a.assigned_at)}); "
                "expected a time between then and now"
            )
        first = a.first_touch_at is None
        if first:
            a.first_touch_at, a.first_touch_by, a.first_touch_channel = when, actor, channel
            a.speed_to_lead_seconds = max(0.0, (when - a.assigned_at).total_seconds())  # 0: clocks apart
            a.status = "touched"
        _feedback(s, lead, "touch", actor=actor, now=now, reason=channel, note=note, assignment=a)
        first_at = a.first_touch_at or when
        sla_met = None if a.sla_due_at is None else first_at <= a.sla_due_at
        if first and outbox.wanted(s, "lead.first_touched"):
            data = {
                **payloads.lead_context(s, lead, now, full=False),
                "first_touch_at": payloads.iso(when),
                "first_touch_by": actor,
                "channel": channel,
                "speed_to_lead_seconds": a.speed_to_lead_seconds,
                "sla_met": sla_met,
            }
            outbox.emit(s, "lead.first_touched", data, lead_id=lead.id, now=now)
        return Outcome(lead.id, lead.stage, None, a.id, a.speed_to_lead_seconds, sla_met)


def set_consent(store: Store, lead_id: str, flags: dict[str, Any], *, actor: str) -> dict[str, bool | None]:
    """Set consent flags through the API (values true / false / null)."""
    parsed = {k: consent.as_flag(v, k) for k, v in flags.items()}
    with store.session() as s, s.begin():
        lead = live_lead(s, lead_id)
        return consent.update(s, lead, parsed, source="api", actor=actor, now=utcnow())


def history(store: Store, lead_id: str) -> dict[str, Any]:
    """A lead's stage, stage changes, assignments, feedback and consent."""
    with store.session() as s:
        lead = live_lead(s, lead_id)
        changes = s.scalars(select(StageChange).where(StageChange.lead_id == lead.id).order_by(StageChange.id))
        assignments = s.scalars(select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.id))
        feedback = s.scalars(select(SalesFeedback).where(SalesFeedback.lead_id == lead.id).order_by(SalesFeedback.id))
        return {
            "lead_id": lead.id,
            "stage": lead.stage,
            "consent": consent.current(s, lead.id),
            "first_touch": payloads.first_touch(s, lead.id),
            "stage_changes": [
                {
                    "id": c.id,
                    "from": c.from_stage,
                    "to": c.to_stage,
                    "at": payloads.iso(c.at),
                    "reason": c.reason,
                    "actor": c.actor,
                    "cause": c.cause,
                    "mql_type": c.mql_type,
                    "definition_version_id": c.definition_version_id,
                }
                for c in changes
            ],
            "assignments": [
                {
                    "id": a.id,
                    "route": a.route,
                    "team": a.team,
                    "owner": a.owner,
                    "method": a.method,
                    "status": a.status,
                    "assigned_at": payloads.iso(a.assigned_at),
                    "sla_due_at": payloads.iso(a.sla_due_at),
                    "first_touch_at": payloads.iso(a.first_touch_at),
                    "speed_to_lead_seconds": a.speed_to_lead_seconds,
                    "breached_at": payloads.iso(a.breached_at),
                }
                for a in assignments
            ],
            "feedback": [
                {"action": f.action, "reason": f.reason, "note": f.note, "actor": f.actor, "at": payloads.iso(f.at)}
                for f in feedback
            ],
        }
