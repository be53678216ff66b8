"""The funnel: leads → MQLs → SQLs → customers, with pipeline, revenue, recycling and time to MQL.

Two cohorts (docs/reports.md, "Cohorts"):

- leads created in the window (known, not merged): ``leads``, ``leads_qualified``, ``mql_rate``
  (``mqls_per_lead`` sets the MQL volume of the other cohort against it);
- MQLs that happened in the window: everything else.  Each MQL is followed through its *episode*, from
  the MQL up to the lead's next MQL (a reactivation) or ``as_of``, so a lead that MQLs twice has two
  outcomes and its deal is credited to the MQL it followed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from leadgate.errors import LeadgateError
from leadgate.reports import sql
from leadgate.reports.model import ALL, SLICE, Column, Report, Window, check_by, ratio
from leadgate.reports.shape import arrange, ordered
from leadgate.store import db
from leadgate.store.store import Store

L, SC, OPP = sql.leads, sql.stage_changes, sql.opportunities

#: The lead cohort is sliced by creation time and first touch (never by MQL type or definition version).
LEAD_SLICE = sql.Slice(lead_id=L.c.id, at=L.c.created_at)

#: Stages that mean sales took the MQL (accepted, or a deal came of it).
SQL_OR_LATER = ("sql", "opportunity", "customer")

COLUMNS = (
    SLICE,
    Column("leads", "Leads", "count", "Known leads created in the window (merged leads excluded).", "Volume"),
    Column("leads_qualified", "Leads→MQL", "count", "Of those leads, how many became an MQL before as_of.", "Volume"),
    Column("mql_rate", "MQL rate", "rate", "leads_qualified ÷ leads.", "Volume"),
    Column(
        "mqls",
        "MQLs",
        "count",
        "Moves to mql in the window: new, reactivated and manual (merge rows excluded).",
        "Volume",
    ),
    Column(
        "mqls_per_lead",
        "MQLs/lead",
        "rate",
        "mqls ÷ leads: MQL volume per new lead, of two different cohorts (can exceed 1).",
        "Volume",
    ),
    Column(
        "reactivated_mqls",
        "Reactivated",
        "count",
        "MQLs of type reactivated: leads that qualified again after a recycle or an explicit move back.",
        "Volume",
    ),
    Column(
        "time_to_mql_median_seconds",
        "To MQL p50",
        "seconds",
        "Median seconds from lead creation to its first MQL, over the first MQLs in the window.",
        "Volume",
    ),
    Column("time_to_mql_p90_seconds", "To MQL p90", "seconds", "90th percentile of the same durations.", "Volume"),
    Column(
        "sqls", "SQLs", "count", "MQLs whose episode reached sql, opportunity or customer before as_of.", "Conversion"
    ),
    Column("mql_to_sql_rate", "MQL→SQL", "rate", "sqls ÷ mqls.", "Conversion"),
    Column("customers", "Customers", "count", "MQLs whose episode reached customer before as_of.", "Conversion"),
    Column("mql_to_customer_rate", "MQL→customer", "rate", "customers ÷ mqls.", "Conversion"),
    Column(
        "pipeline",
        "Pipeline",
        "money",
        "Amount of the opportunities (any status) created during the MQLs' episodes, in the report's currency.",
        "Conversion",
    ),
    Column("revenue", "Revenue", "money", "The same for the opportunities whose status is won.", "Conversion"),
    Column("pipeline_per_mql", "Pipeline/MQL", "money", "pipeline ÷ mqls.", "Conversion"),
    Column("revenue_per_mql", "Revenue/MQL", "money", "revenue ÷ mqls.", "Conversion"),
    Column("recycled", "Recycled", "count", "MQLs whose episode has a move to recycled before as_of.", "Recycling"),
    Column("recycle_rate", "Recycle rate", "rate", "recycled ÷ mqls.", "Recycling"),
    Column(
        "requalified", "Requalified", "count", "Recycled MQLs whose lead became an MQL again before as_of.", "Recycling"
    ),
    Column("requalification_rate", "Requal. rate", "rate", "requalified ÷ recycled.", "Recycling"),
    Column(
        "disqualified",
        "Disqualified",
        "count",
        "MQLs whose episode has a move to disqualified before as_of.",
        "Recycling",
    ),
    Column("disqualification_rate", "Disq. rate", "rate", "disqualified ÷ mqls.", "Recycling"),
)


def funnel(store: Store, window: Window, by: str | None = None, *, currency: str = "USD") -> Report:
    """The funnel report of ``window``, optionally sliced ``by`` one of ``model.BY``."""
    by = check_by(by)
    currency = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise LeadgateError(f"currency: expected a three-letter ISO 4217 code such as USD, found {currency!r}")
    with db.snapshot(store.engine) as conn:
        total = _compute(conn, window, None, currency)[ALL]
        rows = _compute(conn, window, by, currency) if by else {ALL: total}
        lead_counts = sql.sliceable(by, LEAD_SLICE)
        rows_list = arrange(conn, by, window, rows, COLUMNS, lambda: _derive({}, lead_counts))
        other = _other_currencies(conn, window, currency)
    notes = []
    if other:
        notes.append(
            f"{other} opportunities of MQL leads in other currencies than {currency} are not in pipeline or revenue "
            "(no conversion: run the report per currency)"
        )
    if by in sql.MQL_SLICES:
        notes.append(
            f"leads that never became MQLs have no {by}: leads, mql_rate and mqls_per_lead are given in the total only"
        )
    return Report(
        "funnel",
        "Funnel",
        window,
        by,
        COLUMNS,
        rows_list,
        [ordered({"slice": ALL, **total}, COLUMNS)],
        {"currency": currency},
        notes,
    )


def _mql_episodes(window: Window) -> Any:
    """Every MQL before ``as_of`` of the leads that had one in the window, with its order among the lead's
    MQLs (``seq``) and the time of the lead's next MQL (``next_at``, the end of its episode)."""
    in_window = select(SC.c.lead_id).where(
        SC.c.to_stage == "mql", sql.not_merge(SC), SC.c.at >= window.start, SC.c.at < window.cut
    )
    order: dict[str, Any] = {"partition_by": SC.c.lead_id, "order_by": (SC.c.at, SC.c.id)}
    return (
        select(
            SC.c.id,
            SC.c.lead_id,
            SC.c.at,
            SC.c.mql_type,
            SC.c.mql_basis,
            SC.c.mql_motion,
            SC.c.definition_version_id,
            func.row_number().over(**order).label("seq"),
            sql.typed_lead(SC.c.at).over(**order).label("next_at"),
        )
        .select_from(SC.join(L, L.c.id == SC.c.lead_id))
        .where(
            SC.c.to_stage == "mql",
            sql.not_merge(SC),
            SC.c.at < window.as_of,
            L.c.merged_into.is_(None),
            SC.c.lead_id.in_(in_window),
        )
        .cte("episodes")
    )


def _compute(conn: Connection, window: Window, by: str | None, currency: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}

    # -- the lead cohort -----------------------------------------------------------------------------------
    if sql.sliceable(by, LEAD_SLICE):
        key = sql.slice_key(by, LEAD_SLICE)
        ever_mql = select(SC.c.lead_id).where(SC.c.to_stage == "mql", sql.not_merge(SC), SC.c.at < window.as_of)
        stmt = (
            select(
                *sql.keyed(
                    key,
                    func.count().label("leads"),
                    func.coalesce(func.sum(case((L.c.id.in_(ever_mql), 1), else_=0)), 0).label("leads_qualified"),
                )
            )
            .select_from(sql.with_attribution(by, L, L.c.id))
            .where(
                L.c.known.is_(True),
                L.c.merged_into.is_(None),
                L.c.created_at >= window.start,
                L.c.created_at < window.cut,
            )
        )
        for k, r in sql.grouped(conn, stmt, key).items():
            rows.setdefault(k, {}).update(leads=r["leads"], leads_qualified=r["leads_qualified"])

    # -- the MQL cohort: each MQL with its episode's outcomes and deals -------------------------------------
    # Outcomes: the episode joined to the lead's stage changes on the lead and a time range only (the
    # (lead_id, at) index), the stages tested in CASE; a lookup by stage would let a planner without
    # statistics pick the (to_stage, at) index and scan every MQL once per MQL.  Deals: a lookup by lead.
    c = _mql_episodes(window)
    ends = func.coalesce(c.c.next_at, window.as_of)
    x = SC.alias("x")

    def reached(*stages: str) -> Any:
        return func.max(case((x.c.to_stage.in_(stages), 1), else_=0))

    def amount(value: Any) -> Any:
        return (
            select(func.coalesce(func.sum(value), 0))
            .where(
                OPP.c.lead_id == c.c.lead_id,
                OPP.c.currency == currency,
                OPP.c.created_at >= c.c.at,
                OPP.c.created_at < ends,
            )
            .scalar_subquery()
        )

    episode = (c.c.id, c.c.lead_id, c.c.at, *sql.mql_columns(c).values(), c.c.next_at)
    per_mql = (
        select(
            *episode,
            reached(*SQL_OR_LATER).label("sql_"),
            reached("customer").label("customer"),
            reached("recycled").label("recycled"),
            reached("disqualified").label("disqualified"),
            amount(OPP.c.amount).label("pipeline"),
            amount(case((OPP.c.status == "won", OPP.c.amount), else_=0)).label("revenue"),
        )
        .select_from(
            c.outerjoin(x, and_(x.c.lead_id == c.c.lead_id, x.c.at >= c.c.at, x.c.at < ends, sql.not_merge(x)))
        )
        .where(c.c.at >= window.start, c.c.at < window.cut)
        .group_by(*episode)
        .subquery("per_mql")
    )
    m = per_mql
    key = sql.slice_key(by, sql.Slice(m.c.lead_id, m.c.at, sql.mql_columns(m)))
    stmt = select(
        *sql.keyed(
            key,
            func.count().label("mqls"),
            func.coalesce(func.sum(case((m.c.mql_type == "reactivated", 1), else_=0)), 0).label("reactivated"),
            *(func.coalesce(func.sum(m.c[name]), 0).label(name) for name in ("sql_", "customer", "recycled")),
            func.coalesce(func.sum(case((and_(m.c.recycled == 1, m.c.next_at.is_not(None)), 1), else_=0)), 0).label(
                "requalified"
            ),
            func.coalesce(func.sum(m.c.disqualified), 0).label("disqualified"),
            func.coalesce(func.sum(m.c.pipeline), 0).label("pipeline"),
            func.coalesce(func.sum(m.c.revenue), 0).label("revenue"),
        )
    ).select_from(sql.with_attribution(by, m, m.c.lead_id))
    for k, r in sql.grouped(conn, stmt, key).items():
        rows.setdefault(k, {}).update(
            mqls=r["mqls"],
            reactivated_mqls=r["reactivated"],
            sqls=r["sql_"],
            customers=r["customer"],
            recycled=r["recycled"],
            requalified=r["requalified"],
            disqualified=r["disqualified"],
            pipeline=round(float(r["pipeline"]), 2),
            revenue=round(float(r["revenue"]), 2),
        )

    # -- time to MQL: lead created → its first MQL, over first MQLs in the window ---------------------------
    first = (
        select(
            *sql.keyed(
                sql.slice_key(by, sql.Slice(L.c.id, c.c.at, sql.mql_columns(c))),
                sql.seconds_between(c.c.at, L.c.created_at).label("v"),
            )
        )
        .select_from(sql.with_attribution(by, c.join(L, L.c.id == c.c.lead_id), c.c.lead_id))
        .where(c.c.seq == 1, c.c.at >= window.start, c.c.at < window.cut)
        .subquery("first_mqls")
    )
    for k, p in sql.percentiles(conn, first).items():
        rows.setdefault(k, {}).update(time_to_mql_median_seconds=p["median"], time_to_mql_p90_seconds=p["p90"])

    lead_counts = sql.sliceable(by, LEAD_SLICE)
    return {k: _derive(r, lead_counts) for k, r in rows.items()} or ({ALL: _derive({}, True)} if by is None else {})


def _derive(r: dict[str, Any], lead_counts: bool = True) -> dict[str, Any]:
    """Fill zero counts and compute the rates (None where the denominator is zero)."""
    counts = ("mqls", "reactivated_mqls", "sqls", "customers", "recycled", "requalified", "disqualified")
    out: dict[str, Any] = {name: r.get(name, 0) for name in counts}
    out["pipeline"], out["revenue"] = r.get("pipeline", 0.0), r.get("revenue", 0.0)
    if lead_counts:
        out["leads"], out["leads_qualified"] = r.get("leads", 0), r.get("leads_qualified", 0)
        out["mql_rate"] = ratio(out["leads_qualified"], out["leads"])
        out["mqls_per_lead"] = ratio(out["mqls"], out["leads"])
    else:
        out["leads"] = out["leads_qualified"] = out["mql_rate"] = out["mqls_per_lead"] = None
    out["time_to_mql_median_seconds"] = r.get("time_to_mql_median_seconds")
    out["time_to_mql_p90_seconds"] = r.get("time_to_mql_p90_seconds")
    mqls = out["mqls"]
    out["mql_to_sql_rate"] = ratio(out["sqls"], mqls)
    out["mql_to_customer_rate"] = ratio(out["customers"], mqls)
    out["pipeline_per_mql"] = _money(ratio(out["pipeline"], mqls))
    out["revenue_per_mql"] = _money(ratio(out["revenue"], mqls))
    out["recycle_rate"] = ratio(out["recycled"], mqls)
    out["requalification_rate"] = ratio(out["requalified"], out["recycled"])
    out["disqualification_rate"] = ratio(out["disqualified"], mqls)
    return out


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _other_currencies(conn: Connection, window: Window, currency: str) -> int:
    """Opportunities of leads that MQLd in the window, in another currency than the report's."""
    mql_leads = select(SC.c.lead_id).where(
        SC.c.to_stage == "mql", sql.not_merge(SC), SC.c.at >= window.start, SC.c.at < window.cut
    )
    stmt = select(func.count()).where(
        OPP.c.lead_id.in_(mql_leads), OPP.c.currency != currency, OPP.c.created_at < window.as_of
    )
    return int(conn.execute(stmt).scalar_one())
