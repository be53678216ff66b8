"""Sales-facing HTTP API: feedback on MQLs, first touch, explicit stage moves, consent, erasure,
opportunities, routing files and assignments.  Feedback, opportunities and consent take a ``sales`` key
(what a CRM integration holds); routing and erasure an ``admin`` key.  docs/lifecycle.md lists every route.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from leadgate.errors import LifecycleError, NotFoundError
from leadgate.service.auth import Admin, ApiError, Sales, error_body
from leadgate.store import erasure, feedback, revenue, routing
from leadgate.store.models_lifecycle import Assignment
from leadgate.store.models_lifecycle import Opportunity as OpportunityRow
from leadgate.store.payloads import iso
from leadgate.store.store import Store

router = APIRouter(prefix="/api", tags=["sales"])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _actor(key: Any, user: str | None) -> str:
    return f"user:{user}" if user else f"key:{key.prefix}"


class Feedback(BaseModel):
    reason: str | None = Field(default=None, description="A reason code from the routing file's `reasons`.")
    note: str | None = None
    user: str | None = Field(default=None, description="Who in sales gave it (recorded as the actor).")


class Touch(BaseModel):
    channel: str | None = Field(default=None, max_length=32, description="call, email, meeting, ...")
    at: datetime | None = Field(default=None, description="When (default: now); naive means UTC.")
    note: str | None = None
    user: str | None = None


class Move(BaseModel):
    to: str
    reason: str
    note: str | None = None
    user: str | None = None


class RoutingIn(BaseModel):
    source: str
    author: str | None = None
    activate: bool = False


def _naive(when: datetime | None) -> datetime | None:
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


@router.post("/leads/{lead_id}/accept")
def accept(lead_id: str, body: Feedback, key: Sales, request: Request) -> dict[str, Any]:
    """Accept an MQL: it becomes an SQL."""
    actor = _actor(key, body.user)
    return feedback.accept(_store(request), lead_id, actor=actor, reason=body.reason, note=body.note).to_dict()


@router.post("/leads/{lead_id}/reject")
def reject(lead_id: str, body: Feedback, key: Sales, request: Request) -> dict[str, Any]:
    """Reject a lead with a reason code: it is disqualified."""
    outcome = feedback.reject(
        _store(request), lead_id, reason=body.reason or "", actor=_actor(key, body.user), note=body.note
    )
    return outcome.to_dict()


@router.post("/leads/{lead_id}/recycle")
def recycle(lead_id: str, body: Feedback, key: Sales, request: Request) -> dict[str, Any]:
    """Recycle a lead with a reason code: back to marketing until it engages again."""
    outcome = feedback.recycle(
        _store(request), lead_id, reason=body.reason or "", actor=_actor(key, body.user), note=body.note
    )
    return outcome.to_dict()


@router.post("/leads/{lead_id}/first-touch")
def first_touch(lead_id: str, body: Touch, key: Sales, request: Request) -> dict[str, Any]:
    """Record sales' first touch (speed to lead; SLA met or not)."""
    outcome = feedback.touch(
        _store(request), lead_id, actor=_actor(key, body.user), channel=body.channel, at=_naive(body.at), note=body.note
    )
    return outcome.to_dict()


@router.post("/leads/{lead_id}/stage")
def move(lead_id: str, body: Move, key: Sales, request: Request) -> dict[str, Any]:
    """Move a lead to any stage explicitly (backward or sideways too), with a reason."""
    outcome = feedback.move(
        _store(request), lead_id, to=body.to, reason=body.reason, actor=_actor(key, body.user), note=body.note
    )
    return outcome.to_dict()


@router.get("/leads/{lead_id}/lifecycle")
def lifecycle(lead_id: str, _key: Sales, request: Request) -> dict[str, Any]:
    """Stage, stage changes, assignments, feedback, consent and first touch of a lead."""
    return feedback.history(_store(request), lead_id)


@router.put("/leads/{lead_id}/consent")
def consent(lead_id: str, body: dict[str, Any], key: Sales, request: Request) -> dict[str, Any]:
    """Set consent flags: any of ``email``, ``sms``, ``sales_contact`` as true, false or null."""
    flags = feedback.set_consent(_store(request), lead_id, body, actor=_actor(key, None))
    return {"lead_id": lead_id, "consent": flags}


@router.post("/leads/{lead_id}/erase", tags=["admin"])
def erase(lead_id: str, key: Admin, request: Request) -> dict[str, Any]:
    """Erase a person: personal data and events everywhere, in one transaction; an audit entry remains."""
    return erasure.erase(_store(request), lead_id, actor=f"key:{key.prefix}")


@router.post("/opportunities")
def upsert_opportunity(body: revenue.OpportunityIn, key: Sales, request: Request) -> dict[str, Any]:
    """Create or update an opportunity (open moves its lead to opportunity, won to customer)."""
    return revenue.save(_store(request), body, actor=f"key:{key.prefix}")


@router.get("/opportunities/{opportunity_id}")
def get_opportunity(opportunity_id: str, _key: Sales, request: Request) -> dict[str, Any]:
    found = revenue.get(_store(request), opportunity_id)
    if found is None:
        raise ApiError(404, "not_found", f"no opportunity {opportunity_id!r}")
    return found


@router.get("/opportunities")
def list_opportunities(
    _key: Sales, request: Request, lead_id: str | None = None, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    with _store(request).session() as s:
        query = select(OpportunityRow).order_by(OpportunityRow.updated_at.desc()).limit(limit)
        if lead_id is not None:
            query = query.where(OpportunityRow.lead_id == lead_id)
        if status is not None:
            query = query.where(OpportunityRow.status == status)
        return [revenue.to_dict(r) for r in s.scalars(query)]


@router.post("/opportunities/import")
async def import_opportunities(key: Sales, request: Request) -> dict[str, Any]:
    """Import opportunities from a CSV body (text/csv); bad rows are listed with row and field."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_csv", "the body is not UTF-8 text") from None
    stored, errors = await asyncio.to_thread(
        revenue.import_csv, _store(request), "<body>", actor=f"key:{key.prefix}", text=text
    )
    return {"stored": stored, "rejected": [{"row": e.row, "field": e.field, "message": e.message} for e in errors]}


@router.post("/routing", tags=["admin"])
def push_routing(body: RoutingIn, key: Admin, request: Request) -> dict[str, Any]:
    """Store a routing file as a new version (and activate it)."""
    author = body.author or f"key:{key.prefix}"
    return routing.push_file(_store(request), body.source, author=author, activate_it=body.activate)


@router.get("/routing", tags=["admin"])
def show_routing(_key: Admin, request: Request) -> dict[str, Any]:
    """The active routing file (defaults when none is active)."""
    return routing.describe(_store(request))


@router.get("/assignments")
def assignments(
    _key: Sales, request: Request, status: str | None = None, owner: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Assignments, newest first: who owns which lead, SLA due time, first touch, breach."""
    with _store(request).session() as s:
        query = select(Assignment).order_by(Assignment.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Assignment.status == status)
        if owner is not None:
            query = query.where(Assignment.owner == owner)
        return [
            {
                "id": a.id,
                "lead_id": a.lead_id,
                "route": a.route,
                "team": a.team,
                "owner": a.owner,
                "status": a.status,
                "assigned_at": iso(a.assigned_at),
                "sla_due_at": iso(a.sla_due_at),
                "first_touch_at": iso(a.first_touch_at),
                "speed_to_lead_seconds": a.speed_to_lead_seconds,
                "breached_at": iso(a.breached_at),
            }
            for a in s.scalars(query)
        ]


def install(app: FastAPI) -> None:
    """Add these routes to ``app``, with 404 for unknown things and 409 for moves a stage does not allow."""

    @app.exception_handler(NotFoundError)
    async def _not_found(_r: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(error_body("not_found", str(exc)), status_code=404)

    @app.exception_handler(LifecycleError)
    async def _conflict(_r: Request, exc: LifecycleError) -> JSONResponse:
        return JSONResponse(error_body("stage_conflict", str(exc)), status_code=409)

    app.include_router(router)
