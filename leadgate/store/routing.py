"""Routing: the active routing file picks a route for a new MQL (first match wins), the route's team gets
it, and within the team an owner by round-robin (a cursor per team, advanced in the same transaction) or
least-loaded (fewest untouched open assignments).  Either way the team's cursor row is locked until the
assignment commits, so concurrent MQLs see each other's assignments.  Each assignment carries its route's SLA.

Routing files are versioned in ``routing_versions`` like definitions; without an active one nothing is
routed and the default reason codes apply.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadgate.definition.routing import DEFAULT, Route, Routing, parse_routing
from leadgate.errors import LeadgateError
from leadgate.store import signals
from leadgate.store.models import Account, AuditEntry, Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, RoutingCursor, RoutingVersion


class StoreLike(Protocol):  # the Store (store.py imports this module, so it is not imported here)
    def session(self) -> Session: ...


_parsed: dict[str, Routing] = {}  # by sha256 of the source


def push(s: Session, source: str, *, author: str, now: datetime, filename: str = "<pushed>") -> RoutingVersion:
    routing = parse_routing(source, filename=filename)
    taken = s.scalars(
        select(RoutingVersion).where(RoutingVersion.name == routing.name, RoutingVersion.version == routing.version_str)
    ).first()
    if taken is not None:
        raise LeadgateError(
            f"routing {routing.name} version {routing.version_str} is already stored as #{taken.id}; "
            "change 'version' to push a new one"
        )
    row = RoutingVersion(
        name=routing.name,
        version=routing.version_str,
        source=source,
        sha256=hashlib.sha256(source.encode()).hexdigest(),
        author=author,
        created_at=now,
    )
    s.add(row)
    s.add(AuditEntry(at=now, actor=author, action="routing.pushed", subject=row.name, details={"version": row.version}))
    s.flush()
    return row


def activate(s: Session, version_id: int, *, actor: str, now: datetime) -> RoutingVersion:
    row = s.get(RoutingVersion, version_id)
    if row is None:
        raise LeadgateError(f"no routing version {version_id}")
    s.execute(update(RoutingVersion).values(active=False))
    row.active = True
    for team in _parse(row).teams:  # cursors exist before concurrent assignments need to lock them
        if s.get(RoutingCursor, team) is None:
            s.add(RoutingCursor(team=team, position=0, updated_at=now))
    s.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="routing.activated",
            subject=row.name,
            details={"version": row.version, "id": row.id},
        )
    )
    return row


def _parse(row: RoutingVersion) -> Routing:
    routing = _parsed.get(row.sha256)
    if routing is None:  # versions are immutable: parse each text once
        routing = parse_routing(row.source, filename=f"{row.name}@{row.version}")
        _parsed[row.sha256] = routing
    return routing


def active(s: Session) -> tuple[RoutingVersion | None, Routing]:
    """The active routing version and its parsed file (None and the defaults when none is active)."""
    cached = s.info.get("routing")
    if cached is None:
        row = s.scalars(select(RoutingVersion).where(RoutingVersion.active)).first()
        cached = (row, DEFAULT if row is None else _parse(row))
        s.info["routing"] = cached
    return cached  # type: ignore[no-any-return]


def _values(found: Any) -> list[str]:
    if found is None:
        return []
    return [str(v).lower() for v in (found if isinstance(found, list) else [found])]


def _matches(want: list[Any] | None, found: Any) -> bool:
    if want is None:
        return True
    wanted = {str(v).lower() for v in want}
    return any(v in wanted for v in _values(found))


def facts(s: Session, lead: Lead, explanation: dict[str, Any], mql_type: str) -> dict[str, Any]:
    """What routes test, for one lead at the moment it qualifies."""
    account = s.get(Account, lead.account_id) if lead.account_id else None
    account_traits = account.traits if account is not None else {}
    touch = s.get(LeadAttribution, lead.id)
    contributions = explanation.get("contributions", {})
    fired = [k for k, c in contributions.items() if c.get("count") and not k.startswith("group:")]
    return {
        "grade": explanation.get("grade"),
        "fit": explanation.get("fit", 0.0),
        "total": explanation.get("total", 0.0),
        "mql_type": [mql_type, *explanation.get("mql_types", [])],
        "signal": fired,
        "source": touch.source if touch else None,
        "medium": touch.medium if touch else None,
        "campaign": touch.campaign if touch else None,
        "channel": touch.channel if touch else None,
        "country": lead.traits.get("country", account_traits.get("country")),
        "segment": account_traits.get("segment", lead.traits.get("segment")),
        "traits": lead.traits,
        "account_traits": account_traits,
    }


def matches(route: Route, f: dict[str, Any]) -> bool:
    w = route.when
    if w.min_fit is not None and not f["fit"] >= w.min_fit - 1e-9:
        return False
    if w.min_score is not None and not f["total"] >= w.min_score - 1e-9:
        return False
    checks = (
        (w.grade, f["grade"]),
        (w.mql_type, f["mql_type"]),
        (w.signal, f["signal"]),
        (w.source, f["source"]),
        (w.medium, f["medium"]),
        (w.campaign, f["campaign"]),
        (w.channel, f["channel"]),
        (w.country, f["country"]),
        (w.segment, f["segment"]),
    )
    if not all(_matches(want, found) for want, found in checks):
        return False
    for name, want in (w.traits or {}).items():
        found = f["account_traits"].get(name[8:]) if name.startswith("account.") else f["traits"].get(name)
        if not _matches(want, found):
            return False
    return True


def choose(routing: Routing, f: dict[str, Any]) -> Route | None:
    return next((route for route in routing.routes if matches(route, f)), None)


def _lock_team(s: Session, team_name: str, now: datetime) -> RoutingCursor:
    """The team's cursor row, locked until commit (PostgreSQL ``FOR UPDATE``; SQLite serializes writers):
    two MQLs routed to one team at once take turns, each seeing the other's assignment."""
    cursor = s.scalars(select(RoutingCursor).where(RoutingCursor.team == team_name).with_for_update()).first()
    if cursor is None:
        cursor = RoutingCursor(team=team_name, position=0, updated_at=now)
        s.add(cursor)
    return cursor


def _owner(s: Session, routing: Routing, team_name: str, now: datetime) -> tuple[str | None, str]:
    team = routing.teams[team_name]
    if not team.members:
        return None, "queue"
    cursor = _lock_team(s, team_name, now)
    if team.assign == "least_loaded":
        load = dict(
            s.execute(
                select(Assignment.owner, func.count())
                .where(Assignment.owner.in_(team.members), Assignment.status == "open")
                .group_by(Assignment.owner)
            ).all()
        )
        return min(team.members, key=lambda m: (load.get(m, 0), team.members.index(m))), "least_loaded"
    owner = team.members[cursor.position % len(team.members)]
    cursor.position, cursor.updated_at = cursor.position + 1, now
    return owner, "round_robin"


def close_open(s: Session, lead_id: str, *, reason: str, now: datetime) -> None:
    """Close the lead's open or touched assignments (it left sales' hands, or is routed anew)."""
    for a in s.scalars(
        select(Assignment).where(Assignment.lead_id == lead_id, Assignment.status.in_(("open", "touched")))
    ):
        a.status, a.closed_at, a.closed_reason = "closed", now, reason


def assign(
    s: Session, lead: Lead, change: StageChange, explanation: dict[str, Any], *, now: datetime
) -> Assignment | None:
    """Route a new MQL under the active routing file (None: no file, no matching route)."""
    row, routing = active(s)
    route = choose(routing, facts(s, lead, explanation, change.mql_type or "new"))
    if route is None:
        return None
    owner, method = _owner(s, routing, route.team, now)
    close_open(s, lead.id, reason="rerouted", now=now)
    assignment = Assignment(
        lead_id=lead.id,
        stage_change_id=change.id,
        routing_version_id=None if row is None else row.id,
        route=route.name,
        team=route.team,
        owner=owner,
        method=method,
        assigned_at=now,
        sla_seconds=route.sla,
        sla_due_at=None if route.sla is None else now + timedelta(seconds=route.sla),
        status="open",
    )
    s.add(assignment)
    s.flush()
    if assignment.sla_due_at is not None:
        signals.raise_after_commit(s, signals.TIMERS)
    return assignment


# -- over a Store (CLI and API) ----------------------------------------------------------------------------


def push_file(
    store: StoreLike, source: str, *, author: str, activate_it: bool = False, filename: str = "<pushed>"
) -> dict[str, Any]:
    """Store a routing file as a new version (and activate it)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.session() as s, s.begin():
        row = push(s, source, author=author, now=now, filename=filename)
        if activate_it:
            activate(s, row.id, actor=author, now=now)
        return {"id": row.id, "name": row.name, "version": row.version, "active": row.active}


def activate_version(store: StoreLike, version_id: int, *, actor: str) -> dict[str, Any]:
    with store.session() as s, s.begin():
        row = activate(s, version_id, actor=actor, now=datetime.now(UTC).replace(tzinfo=None))
        return {"id": row.id, "name": row.name, "version": row.version, "active": True}


def describe(store: StoreLike) -> dict[str, Any]:
    """The active routing file: teams, routes in order, reason codes, auto-recycle (defaults if none)."""
    with store.session() as s:
        row, routing = active(s)
        return {
            "id": None if row is None else row.id,
            "name": routing.name,
            "version": routing.version_str,
            "teams": {name: team.model_dump() for name, team in routing.teams.items()},
            "routes": [r.model_dump(exclude_none=True) for r in routing.routes],
            "lifecycle": routing.lifecycle.model_dump(),
            "reasons": routing.reasons.model_dump(),
        }
