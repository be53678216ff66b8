"""The funnel's SQL equals a small pure-Python reading of docs/reports.md on random lifecycles (hypothesis):
several MQLs per lead, merge rows, merged and anonymous leads, outcomes at the same instant as an MQL,
deals in two currencies, and windows cut short by ``as_of``."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from leadgate.reports import Window, funnel
from leadgate.store.models import Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, Opportunity
from leadgate.store.store import Store
from tests.reports.builder import Builder

BASE = datetime(2026, 3, 1)
STAGES = ["mql", "mql", "sql", "opportunity", "customer", "recycled", "disqualified", "lead"]


@dataclass
class Move:
    stage: str
    at: datetime
    cause: str


@dataclass
class Deal:
    amount: float
    status: str
    currency: str
    created: datetime


@dataclass
class Person:
    created: datetime
    known: bool
    merged: bool
    channel: str | None
    moves: list[Move] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)


hours = st.integers(min_value=0, max_value=24 * 40).map(lambda h: BASE + timedelta(hours=h))
moves = st.builds(Move, st.sampled_from(STAGES), hours, st.sampled_from(["score", "feedback", "merge"]))
deals = st.builds(
    Deal,
    st.integers(min_value=1, max_value=100).map(float),
    st.sampled_from(["open", "won", "lost"]),
    st.sampled_from(["USD", "USD", "EUR"]),
    hours,
)
people = st.lists(
    st.builds(
        Person,
        hours,
        st.booleans(),
        st.sampled_from([False, False, False, True]),
        st.sampled_from([None, "email", "paid_search"]),
        st.lists(moves, max_size=6),
        st.lists(deals, max_size=2),
    ),
    min_size=1,
    max_size=8,
)
as_ofs = st.sampled_from(["2026-03-10T00:00:00", "2026-03-20T00:00:00", "2026-04-30T00:00:00"])


def pct(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def reference(persons: list[Person], w: Window) -> dict[str, Any]:
    """The funnel total as docs/reports.md words it, in plain Python."""
    live = [p for p in persons if not p.merged]
    cohort = [p for p in live if p.known and w.start <= p.created < w.cut]
    qualified = [p for p in cohort if any(m.stage == "mql" and m.cause != "merge" and m.at < w.as_of for m in p.moves)]
    out = dict.fromkeys(("mqls", "reactivated_mqls", "sqls", "customers", "recycled", "requalified", "disqualified"), 0)
    pipeline = revenue = 0.0
    to_mql: list[float] = []
    for p in live:
        mqls = [m for m in p.moves if m.stage == "mql" and m.cause != "merge" and m.at < w.as_of]
        mqls.sort(key=lambda m: m.at)  # stable: ties keep insertion (id) order
        for i, m in enumerate(mqls):
            if not w.start <= m.at < w.cut:
                continue
            nxt = mqls[i + 1].at if i + 1 < len(mqls) else None
            end = nxt or w.as_of
            seen = {x.stage for x in p.moves if x.cause != "merge" and m.at <= x.at < end}
            out["mqls"] += 1
            out["sqls"] += bool(seen & {"sql", "opportunity", "customer"})
            out["customers"] += "customer" in seen
            out["recycled"] += "recycled" in seen
            out["requalified"] += "recycled" in seen and nxt is not None
            out["disqualified"] += "disqualified" in seen
            mine = [d for d in p.deals if d.currency == "USD" and m.at <= d.created < end]
            pipeline += sum(d.amount for d in mine)
            revenue += sum(d.amount for d in mine if d.status == "won")
            if i == 0:
                to_mql.append((m.at - p.created).total_seconds())
    out["leads"], out["leads_qualified"] = len(cohort), len(qualified)
    out["pipeline"], out["revenue"] = pipeline, revenue
    out["time_to_mql_median_seconds"], out["time_to_mql_p90_seconds"] = pct(sorted(to_mql))
    return out


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st_ = Store(store_url)
    st_.upgrade()
    yield st_
    st_.engine.dispose()


def fill(store: Store, persons: list[Person]) -> None:
    with store.engine.begin() as conn:
        for model in (Opportunity, Assignment, StageChange, LeadAttribution, Lead):
            conn.execute(delete(model.__table__))  # type: ignore[attr-defined]
    b = Builder(store)
    for i, p in enumerate(persons):
        lead = f"P{i}"
        b.lead(lead, p.created.isoformat(" "), known=p.known, channel=p.channel)
        for m in p.moves:
            b.move(lead, m.stage, m.at.isoformat(" "), cause=m.cause, mql_type="new" if m.stage == "mql" else None)
        for j, d in enumerate(p.deals):
            b.opportunity(
                f"o{i}-{j}", lead, d.amount, created=d.created.isoformat(" "), status=d.status, currency=d.currency
            )
    with store.engine.begin() as conn:  # merged last, so a lead can be merged into any lead
        for i, p in enumerate(persons):
            if p.merged:
                conn.execute(Lead.__table__.update().where(Lead.id == f"P{i}").values(merged_into="P0" if i else None))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people, as_ofs)
def test_funnel_equals_the_reference(store: Store, persons: list[Person], as_of: str) -> None:
    persons[0].merged = False  # the lead the others merge into
    fill(store, persons)
    w = Window.parse("2026-03-02", "2026-03-15", as_of)
    (total,) = funnel(store, w).total
    want = reference(persons, w)
    for name, value in want.items():
        assert total[name] == (value if value is None else pytest.approx(value)), name
