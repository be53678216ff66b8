"""Why leads fall out of the funnel: the reason codes of moves to disqualified (sales rejections, explicit
moves) and to recycled (sales recycles, auto-recycle's ``not_accepted``) in the window, and the
definition's own disqualifiers (``disqualify`` rules) on the current scores of the leads created in it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, case, func, null, select

from leadgate.reports import sql
from leadgate.reports.model import SLICE, Column, Report, Window, check_by, ratio
from leadgate.reports.shape import order_key
from leadgate.store import db
from leadgate.store.models import Score
from leadgate.store.store import Store

L, SC = sql.leads, sql.stage_changes
S = Score.__table__

#: The stages a lead leaves the funnel for (with a reason).
OUT = ("disqualified", "recycled")

#: The MQL's attributes a move takes from the MQL whose episode it ends.
MQL_ATTRIBUTES = ("mql_type", "mql_basis", "mql_motion")

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
    # The MQL type of the episode a move ends: the lead's MQLs and moves in time order, numbered by how many
    # MQLs came so far (``episode``); the type of the episode's MQL is then a maximum over the episode.
    moved = select(SC.c.lead_id).where(
        SC.c.to_stage.in_(OUT), sql.not_merge(SC), SC.c.at >= window.start, SC.c.at < window.cut
    )
    order: dict[str, Any] = {"partition_by": SC.c.lead_id, "order_by": (SC.c.at, SC.c.id), "rows": (None, 0)}
    history = (
        select(
            SC.c.lead_id,
            SC.c.to_stage,
            SC.c.at,
            SC.c.reason,
            SC.c.mql_type,
            SC.c.mql_basis,
            SC.c.mql_motion,
            SC.c.definition_version_id,
            func.count(case((SC.c.to_stage == "mql", 1))).over(**order).label("episode"),
        )
        .where(SC.c.to_stage.in_(("mql", *OUT)), sql.not_merge(SC), SC.c.at < window.cut, SC.c.lead_id.in_(moved))
        .subquery("history")
    )
    episode: dict[str, Any] = {"partition_by": (history.c.lead_id, history.c.episode)}
    h = select(
        history,
        *(func.max(history.c[name]).over(**episode).label(f"episode_{name}") for name in MQL_ATTRIBUTES),
    ).subquery("typed")
    mql = {name: h.c[f"episode_{name}"] for name in MQL_ATTRIBUTES}
    on = sql.Slice(h.c.lead_id, h.c.at, {**mql, "definition_version": h.c.definition_version_id})
    per = (
        select(*sql.keyed(sql.slice_key(by, on), h.c.to_stage.label("kind"), sql.label(h.c.reason).label("reason")))
        .select_from(sql.with_attribution(by, h.join(L, L.c.id == h.c.lead_id), h.c.lead_id))
        .where(h.c.to_stage.in_(OUT), L.c.merged_into.is_(None), h.c.at >= window.start)
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
    none = null()
    on = sql.Slice(
        L.c.id,
        L.c.created_at,
        {"mql_type": none, "mql_basis": none, "mql_motion": none, "definition_version": S.c.definition_version_id},
    )
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
