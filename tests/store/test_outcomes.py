"""The store as an outcome source: SQLs from the lifecycle, customers and revenue from won opportunities,
and a backtest over the store that judges MQLs by them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from leadgate.backtest import History, Snapshots, backtest
from leadgate.backtest.outcomes import store_outcomes
from leadgate.store.models import Lead, StageChange
from leadgate.store.outcomes import outcome_table
from leadgate.store.revenue import OpportunityIn, save
from leadgate.store.store import Store
from tests.backtest import tiny
from tests.store.test_history import store, when  # noqa: F401 - the tiny history in a store


def record(store: Store) -> None:  # noqa: F811
    """B accepted at +10d (before its MQL at +12d); A's opportunity won for 1,000; E's lost."""
    with store.session() as s, s.begin():
        s.add(StageChange(lead_id="B", from_stage="mql", to_stage="sql", at=when(10), reason="accept", actor="t"))
        s.get(Lead, "B").stage = "sql"  # type: ignore[union-attr]
    save(store, OpportunityIn(id="o1", lead_id="A", amount=1000, status="won", close_date=date(2026, 3, 20)),
         actor="t")  # fmt: skip
    save(store, OpportunityIn(id="o2", lead_id="E", amount=500, status="lost"), actor="t")


def test_outcome_table(store: Store) -> None:  # noqa: F811
    record(store)
    rows = {r["lead_id"]: r for r in outcome_table(store).to_pylist()}
    assert sorted(rows) == list("ABCDEFGH")
    a, b, e = rows["A"], rows["B"], rows["E"]
    assert (a["opportunity"], a["won"], a["revenue"]) == (True, True, 1000.0)
    assert a["closed_at"].date() == date(2026, 3, 20)
    assert (b["became_sql"], b["sql_at"].day, b["won"]) == (True, 11, False)  # +10d is March 11th
    assert (e["opportunity"], e["won"], e["revenue"]) == (True, False, 0.0)
    assert not any(rows[x]["became_sql"] or rows[x]["opportunity"] for x in "CDFGH")
    with store.session() as s:  # winning moved A to customer: an SQL and beyond
        assert "customer" in {c.to_stage for c in s.scalars(select(StageChange).where(StageChange.lead_id == "A"))}
    assert rows["A"]["became_sql"] is True


def test_backtest_judges_mqls_by_the_stores_outcomes(store: Store) -> None:  # noqa: F811
    record(store)
    report = backtest(
        tiny.definition(),
        History(database=store.url),
        Snapshots.between(tiny.at(0), tiny.at(21), "week"),
        outcomes=store_outcomes(store.url),
    )
    t = report.definition.total
    assert (t.mqls, t.already_sql, t.customers, t.revenue) == (5, 1, 1, 1000.0)  # B was an SQL first; A won
    assert report.outcomes == f"store {store.url}"
