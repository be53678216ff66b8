"""Why leads fall out of the funnel: the reason codes of moves to disqualified (sales rejections, explicit
moves) and to recycled (sales recycles, auto-recycle's ``not_accepted``) in the window, and the
definition's own disqualifiers (``disqualify`` rules) on the current scores of the leads created in it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, func, null, select

from leadgate.reports import sql
from leadgate.reports.model import SLICE, Column, Report, Window, check_by, ratio
from leadgate.reports.shape import order_key
from leadgate.store import db
from leadgate.store.models import Score
from leadgate.store.store import Store

L, SC = sql.leads, sql.stage_changes
S = Score.__table__

#: Report kinds in the order they are listed: the stage moved to, or "definition".
KINDS = ("disqualified", "recycled", "definition")

COLUMNS = (
    SLICE,
    Column(
        "kind",
        "Kind",
        "label",
        "disqualified (rejections, moves to disqualified), recycled (recycles, auto-recycles) or definition.",
    ),
    Column("reason", "Reason", "label", "The reason code; (none) when empty."),
    Column(
        "count",
        "Count",
        "count",
        "Moves with this reason in the window; for definition: leads created in it whose current score names it.",
    ),
    Column(
        "share",
        "Share",
        "rate",
        "count ÷ the moves (for definition: the disqualified leads) of this kind in the slice.",
    ),
)


def reasons(store: Store, window: Window, by: str | None = None) -> Report:
    """Reason codes of the window's disqualifications, recycles and definition disqualifiers, optionally
    sliced ``by``; the total gives the same rows over the whole cohort."""
    by = check_by(by)
    with db.snapshot(store.engine) as conn:
        total = _compute(conn, window, None)
        rows = _compute(conn, window, by) if by else total
        names = sql.definition_labels(conn, {r["slice"] for r in rows}) if by == "definition_version" else {}
    for r in rows:
        r["slice"] = names.get(r["slice"], r["slice"])
    notes = ["definition reasons are read from the leads' current scores (the store keeps no history of them)"]
    title = "Rejection, recycle and disqualification reasons"
    return Report("reasons", title, window, by, COLUMNS, rows, total, {}, notes)


def _compute(conn: Connection, window: Window, by: str | None) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    per_kind: Counter[tuple[str, str]] = Counter()

    # -- moves to disqualified and recycled ----------------------------------------------------------------
    m = SC.alias("m")
    episode_type = (
        select(m.c.mql_type)
        .where(m.c.lead_id == SC.c.lead_id, m.c.to_stage == "mql", sql.not_merge(m), m.c.at <= SC.c.at)
        .order_by(m.c.at.desc(), m.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    on = sql.Slice(SC.c.lead_id, SC.c.at, episode_type, SC.c.definition_version_id)
    per = (
        select(*sql.keyed(sql.slice_key(by, on), SC.c.to_stage.label("kind"), sql.label(SC.c.reason).label("reason")))
        .select_from(sql.with_attribution(by, SC.join(L, L.c.id == SC.c.lead_id), SC.c.lead_id))
        .where(
            SC.c.to_stage.in_(("disqualified", "recycled")),
            sql.not_merge(SC),
            L.c.merged_into.is_(None),
            SC.c.at >= window.start,
            SC.c.at < window.cut,
        )
        .subquery("moves")
    )
    stmt = select(per.c.k, per.c.kind, per.c.reason, func.count().label("n")).group_by(
        per.c.k, per.c.kind, per.c.reason
    )
    for move in conn.execute(stmt):
        counts[(str(move.k), move.kind, move.reason)] += move.n
        per_kind[(str(move.k), move.kind)] += move.n

    # -- the definition's disqualifiers on the current scores of the window's leads -------------------------
    found = S.c.explanation["disqualify_reasons"]
    on = sql.Slice(L.c.id, L.c.created_at, null(), S.c.definition_version_id)
    stmt = (
        select(*sql.keyed(sql.slice_key(by, on), found.label("found")))
        .select_from(sql.with_attribution(by, L.join(S, S.c.lead_id == L.c.id), L.c.id))
        .where(
            L.c.known.is_(True),
            L.c.merged_into.is_(None),
            L.c.created_at >= window.start,
            L.c.created_at < window.cut,
            S.c.qualified.is_(False),
            found.as_string() != "[]",
        )
    )
    for hit in conn.execute(stmt):
        named = sorted({str(x) for x in hit.found or [] if x not in (None, "")})
        if not named:
            continue
        per_kind[(str(hit.k), "definition")] += 1
        for reason in named:
            counts[(str(hit.k), "definition", reason)] += 1

    rows: list[dict[str, Any]] = [
        {"slice": k, "kind": kind, "reason": reason, "count": n, "share": ratio(n, per_kind[(k, kind)])}
        for (k, kind, reason), n in counts.items()
    ]
    rows.sort(key=lambda r: (order_key(by, r["slice"]), KINDS.index(r["kind"]), -r["count"], r["reason"]))
    return rows
