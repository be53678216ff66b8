"""Queries about the input tables themselves, not scores: events that name no lead.

An event whose ``lead_id`` matches no row of the leads table is never scored (docs/semantics.md,
"Inputs"); this query finds how many there are, and for how many lead ids, so a run can say so.
"""

from __future__ import annotations

from sqlglot import exp

from leadgate.compiler.dialects import check_dialect
from leadgate.compiler.query import TableNames, table_ref
from leadgate.compiler.sqlbuild import col, ident, num

#: How many of the unknown lead ids a run names as examples.
EXAMPLES = 5


def events_without_lead(tables: TableNames | None = None, examples: int = EXAMPLES) -> exp.Select:
    """Rows ``(lead_id, n, events, leads)``: up to ``examples`` unknown lead ids (in lead_id order) with
    their event count, each row also carrying the totals (events without a lead, distinct unknown ids).
    No rows when every event has its lead."""
    names = tables or TableNames()
    known = exp.EQ(this=col("lead_id", "l"), expression=col("lead_id", "e"))
    lead = exp.select(num(1)).from_(table_ref(names.leads).as_("l")).where(known)
    orphans = (
        exp.select(col("lead_id", "e"), exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True))
        .from_(table_ref(names.events).as_("e"))
        .where(exp.Not(this=exp.Exists(this=lead)))
        .group_by(col("lead_id", "e"))
    )
    return (
        exp.select(
            col("lead_id"),
            col("n"),
            exp.alias_(exp.Window(this=exp.Sum(this=col("n"))), "events", quoted=True),
            exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "leads", quoted=True),
        )
        .from_(exp.Table(this=ident("o")))
        .order_by(col("lead_id"))
        .limit(examples)
        .with_(ident("o"), as_=orphans)
    )


def events_without_lead_sql(dialect: str, tables: TableNames | None = None, examples: int = EXAMPLES) -> str:
    return events_without_lead(tables, examples).sql(dialect=check_dialect(dialect))
