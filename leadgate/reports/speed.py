"""Speed to lead and SLA attainment, over the assignments made in the window.

Each assignment's SLA outcome is derived from its times as of ``as_of`` (not from ``breached_at``, which
depends on the timer having run): met, breached, closed untouched before it was due, or still pending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from leadgate.reports import sql
from leadgate.reports.model import ALL, SLICE, Column, Report, Window, check_by, ratio
from leadgate.reports.shape import arrange, ordered
from leadgate.store import db
from leadgate.store.store import Store

A, L, SC = sql.assignments, sql.leads, sql.stage_changes

COLUMNS = (
    SLICE,
    Column(
        "assignments", "Assigned", "count", "Assignments made in the window (merged leads excluded).", "Speed to lead"
    ),
    Column("touched", "Touched", "count", "Of those, first touched before as_of.", "Speed to lead"),
    Column("untouched", "Untouched", "count", "assignments − touched.", "Speed to lead"),
    Column(
        "speed_to_lead_median_seconds",
        "Speed p50",
        "seconds",
        "Median seconds from assignment to first touch, over the touched assignments.",
        "Speed to lead",
    ),
    Column("speed_to_lead_p90_seconds", "Speed p90", "seconds", "90th percentile of the same.", "Speed to lead"),
    Column("with_sla", "With SLA", "count", "Assignments whose route has an SLA.", "SLA"),
    Column("sla_met", "Met", "count", "First touched at or before the SLA was due (and before as_of).", "SLA"),
    Column(
        "sla_breached",
        "Breached",
        "count",
        "Not met, not closed before due, and due before as_of: touched late or not at all.",
        "SLA",
    ),
    Column(
        "sla_closed_untouched",
        "Closed untouched",
        "count",
        "Closed (rejected, recycled, re-routed) before the SLA was due, without a touch.",
        "SLA",
    ),
    Column("sla_pending", "Pending", "count", "Untouched, not closed and not yet due at as_of.", "SLA"),
    Column("sla_attainment", "Attainment", "rate", "sla_met ÷ (sla_met + sla_breached).", "SLA"),
)

COUNTS = ("assignments", "touched", "with_sla", "sla_met", "sla_breached", "sla_closed_untouched", "sla_pending")


def speed(store: Store, window: Window, by: str | None = None) -> Report:
    """Speed to lead and SLA attainment of the assignments made in ``window``, optionally sliced ``by``."""
    by = check_by(by)
    with db.snapshot(store.engine) as conn:
        total = _compute(conn, window, None)[ALL]
        rows = _compute(conn, window, by) if by else {ALL: total}
        rows_list = arrange(conn, by, window, rows, COLUMNS, lambda: _derive({}))
    return Report(
        "speed", "Speed to lead and SLA", window, by, COLUMNS, rows_list, [ordered({"slice": ALL, **total}, COLUMNS)]
    )


def _compute(conn: Connection, window: Window, by: str | None) -> dict[str, dict[str, Any]]:
    seen = window.as_of
    touched = and_(A.c.first_touch_at.is_not(None), A.c.first_touch_at < seen)
    sla_state = case(
        (A.c.sla_due_at.is_(None), "none"),
        (and_(touched, A.c.first_touch_at <= A.c.sla_due_at), "met"),
        (and_(A.c.closed_at.is_not(None), A.c.closed_at < seen, A.c.closed_at <= A.c.sla_due_at), "closed"),
        (A.c.sla_due_at < seen, "breached"),
        else_="pending",
    )
    speed_s = case(
        (touched, func.coalesce(A.c.speed_to_lead_seconds, sql.seconds_between(A.c.first_touch_at, A.c.assigned_at)))
    )
    on = sql.Slice(L.c.id, A.c.assigned_at, sql.mql_columns(SC))
    source = sql.with_attribution(
        by, A.join(L, L.c.id == A.c.lead_id).outerjoin(SC, SC.c.id == A.c.stage_change_id), A.c.lead_id
    )
    per = (
        select(
            *sql.keyed(
                sql.slice_key(by, on),
                case((touched, 1), else_=0).label("touched"),
                sla_state.label("state"),
                speed_s.label("v"),
            )
        )
        .select_from(source)
        .where(L.c.merged_into.is_(None), A.c.assigned_at >= window.start, A.c.assigned_at < window.cut)
        .subquery("per_assignment")
    )

    def state(name: str) -> Any:
        return func.coalesce(func.sum(case((per.c.state == name, 1), else_=0)), 0).label(f"sla_{name}")

    stmt = select(
        per.c.k,
        func.count().label("assignments"),
        func.coalesce(func.sum(per.c.touched), 0).label("touched"),
        func.coalesce(func.sum(case((per.c.state != "none", 1), else_=0)), 0).label("with_sla"),
        state("met"),
        state("breached"),
        state("closed"),
        state("pending"),
    )
    stmt = stmt.group_by(per.c.k)
    rows: dict[str, dict[str, Any]] = {}
    for r in conn.execute(stmt):
        rows[str(r.k)] = {
            "assignments": r.assignments,
            "touched": r.touched,
            "with_sla": r.with_sla,
            "sla_met": r.sla_met,
            "sla_breached": r.sla_breached,
            "sla_closed_untouched": r.sla_closed,
            "sla_pending": r.sla_pending,
        }
    for k, p in sql.percentiles(conn, per).items():
        rows.setdefault(k, {}).update(speed_to_lead_median_seconds=p["median"], speed_to_lead_p90_seconds=p["p90"])
    if by is None:
        rows.setdefault(ALL, {})
    return {k: _derive(r) for k, r in rows.items()}


def _derive(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: r.get(name, 0) for name in COUNTS}
    out["untouched"] = out["assignments"] - out["touched"]
    out["speed_to_lead_median_seconds"] = r.get("speed_to_lead_median_seconds")
    out["speed_to_lead_p90_seconds"] = r.get("speed_to_lead_p90_seconds")
    out["sla_attainment"] = ratio(out["sla_met"], out["sla_met"] + out["sla_breached"])
    return out
