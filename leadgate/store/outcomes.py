"""What became of the store's leads, as the backtest's outcome table (``leadgate.backtest.outcomes``).

From the lifecycle and the CRM's opportunities:

    became_sql   the lead reached ``sql`` (or ``opportunity`` / ``customer``, which come after it)
    sql_at       the first such stage change
    opportunity  an opportunity is linked to the lead, or it reached ``opportunity`` / ``customer``
    won          one of its opportunities is won, or it reached ``customer``
    revenue      the amounts of its won opportunities, summed as recorded
    closed_at    the latest close date of its won opportunities (midnight UTC)

Merged leads are left out (their history is their survivor's); opportunities linked only to an account
are no lead's outcome.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from leadgate.inputs.dataset import TS_TYPE
from leadgate.store.models import Lead, StageChange
from leadgate.store.models_lifecycle import Opportunity
from leadgate.store.store import Store, to_micros

SQL_OR_LATER = ("sql", "opportunity", "customer")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def outcome_table(store: Store) -> pa.Table:
    """One row per live lead: lead_id, became_sql, sql_at, opportunity, won, revenue, closed_at."""
    with store.session() as s:
        leads = list(s.scalars(select(Lead.id).where(Lead.merged_into.is_(None)).order_by(Lead.id)))
        moves = s.execute(
            select(StageChange.lead_id, StageChange.to_stage, StageChange.at).where(
                StageChange.to_stage.in_(SQL_OR_LATER)
            )
        ).all()
        deals = s.execute(
            select(Opportunity.lead_id, Opportunity.status, Opportunity.amount, Opportunity.close_date).where(
                Opportunity.lead_id.is_not(None)
            )
        ).all()
    sql_at: dict[str, datetime] = {}
    reached: dict[str, set[str]] = defaultdict(set)
    for lead, stage, at in moves:
        reached[lead].add(stage)
        if lead not in sql_at or at < sql_at[lead]:
            sql_at[lead] = at
    has_deal: set[str] = set()
    revenue: dict[str, float] = defaultdict(float)
    closed: dict[str, datetime] = {}
    for owner, status, amount, close_date in deals:
        if owner is None:  # pragma: no cover - selected away
            continue
        has_deal.add(owner)
        if status == "won":
            revenue[owner] += float(amount or 0.0)
            if close_date is not None and (owner not in closed or _midnight(close_date) > closed[owner]):
                closed[owner] = _midnight(close_date)

    def micros(values: list[datetime | None]) -> pa.Array:
        return pa.array([None if v is None else to_micros(v) for v in values], pa.int64()).cast(TS_TYPE)

    rows: dict[str, list[Any]] = defaultdict(list)
    for lead in leads:
        stages = reached.get(lead, set())
        won = bool(stages & {"customer"}) or lead in revenue
        rows["lead_id"].append(lead)
        rows["became_sql"].append(bool(stages))
        rows["sql_at"].append(sql_at.get(lead))
        rows["opportunity"].append(lead in has_deal or bool(stages & {"opportunity", "customer"}))
        rows["won"].append(won)
        rows["revenue"].append(revenue.get(lead, 0.0))
        rows["closed_at"].append(closed.get(lead))
    return pa.table(
        {
            "lead_id": pa.array(rows["lead_id"], pa.string()),
            "became_sql": pa.array(rows["became_sql"], pa.bool_()),
            "sql_at": micros(rows["sql_at"]),
            "opportunity": pa.array(rows["opportunity"], pa.bool_()),
            "won": pa.array(rows["won"], pa.bool_()),
            "revenue": pa.array(rows["revenue"], pa.float64()),
            "closed_at": micros(rows["closed_at"]),
        }
    )
