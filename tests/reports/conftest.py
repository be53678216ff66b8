"""The March scenario every report test computes by hand: a fresh store (SQLite, and PostgreSQL in the
postgres suite) with a dozen leads whose lifecycle rows are written straight into the tables.

The window is 2026-03-02 (a Monday) to 2026-03-15 inclusive: ISO weeks 2026-03-02 and 2026-03-09.
MQL basis and motion: A intent / sales-led, B fit / sales-led then intent / product-led, C intent /
product-led, H fit / sales-led, K intent / sales-led, M none.

- A, created 03-02 09:00, first touch paid_search / google / spring: MQL 03-03 09:00 (new, v1), sql 03-04,
  opportunity 03-05, customer 03-20; deals o1 1000 won (03-05), o2 500 lost (03-06), o4 900 EUR (03-07).
- B, 03-02 12:00, organic_search / google: MQL 03-04 12:00 (new, v1), recycled 03-06 (not_now, v1),
  MQL 03-10 12:00 (reactivated, v2), sql 03-12; o3 2000 (03-13).
- C, 03-09 10:00, no first touch: MQL 03-09 10:30 (new, v2), disqualified 03-11 (no_budget, v2).
- D, 03-09 11:00, paid_search / google / spring: never an MQL; current score disqualified by student (v1).
- E, 03-10 08:00, email / newsletter: never an MQL; score disqualified by competitor and student (v2);
  a merge row to recycled 03-12.
- F, 03-03, anonymous (not known): score disqualified by student.
- G, 03-02, merged into A: MQL 03-05, disqualified 03-07 (spam); all of it ignored.
- H, 02-20 (before the window), paid_search: o6 700 (02-25, before its MQL); MQL 03-02 00:00 (new, v1),
  recycled 03-14 (not_accepted, timer, v2).
- I, 03-15 23:59:59, referral: MQL 03-16 00:00 (after the window), disqualified 03-20 (not_a_fit).
- J, 03-01 23:59:59 (before the window): score disqualified by spam.
- K, 03-05, email: MQL 03-08 (new, v1), a merge row to mql 03-12, opportunity 03-14 (cause opportunity);
  o5 300 (03-14).
- M, 03-12 00:00, no first touch: MQL 03-13 06:00 (manual, no definition version).

Assignments: A 03-03 09:00 SLA 1 h touched 09:30; B 03-04 12:00 SLA 1 h touched 15:00, closed 03-06;
B 03-10 12:00 SLA 24 h untouched (no breached_at: the timer never ran); C 03-09 10:30 SLA 1 h closed 10:45
untouched; H 03-02 00:00 no SLA touched 06:00; K 03-08 00:00 SLA 24 h untouched, breached_at 03-09 00:01;
M 03-13 06:00 no SLA, no MQL link, touched 07:00; G (merged) 03-05 SLA 1 h touched at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from leadgate.store.store import Store
from tests.reports.builder import Builder

FROM, TO, AS_OF = "2026-03-02", "2026-03-15", "2026-04-30T00:00:00"


@dataclass
class Scenario:
    store: Store
    url: str
    v1: int
    v2: int


def build_march(b: Builder, definition: str = "classic") -> tuple[int, int]:
    v1, v2 = b.version("1", definition), b.version("2", definition)

    b.lead("A", "2026-03-02 09:00", channel="paid_search", source="google", campaign="spring")
    a = b.mql("A", "2026-03-03 09:00", version=v1, basis="intent", motion="sales_led")
    b.assign("A", "2026-03-03 09:00", sla=3600, touched="2026-03-03 09:30", mql=a)
    b.move("A", "sql", "2026-03-04 10:00", reason="accepted", version=v1)
    b.move("A", "opportunity", "2026-03-05 00:00", reason="opportunity_open", cause="opportunity", version=v1)
    b.opportunity("o1", "A", 1000, created="2026-03-05 00:00", status="won")
    b.opportunity("o2", "A", 500, created="2026-03-06 00:00", status="lost")
    b.opportunity("o4", "A", 900, created="2026-03-07 00:00", currency="EUR")
    b.move("A", "customer", "2026-03-20 00:00", reason="opportunity_won", cause="opportunity", version=v1)

    b.lead("B", "2026-03-02 12:00", channel="organic_search", source="google")
    b1 = b.mql("B", "2026-03-04 12:00", version=v1, basis="fit", motion="sales_led")
    b.assign("B", "2026-03-04 12:00", sla=3600, touched="2026-03-04 15:00", closed="2026-03-06 00:00", mql=b1)
    b.move("B", "recycled", "2026-03-06 00:00", reason="not_now", version=v1)
    b2 = b.mql("B", "2026-03-10 12:00", type="reactivated", version=v2, basis="intent", motion="product_led")
    b.assign("B", "2026-03-10 12:00", sla=86400, mql=b2)
    b.move("B", "sql", "2026-03-12 00:00", reason="accepted", version=v2)
    b.opportunity("o3", "B", 2000, created="2026-03-13 00:00")

    b.lead("C", "2026-03-09 10:00")
    c = b.mql("C", "2026-03-09 10:30", version=v2, basis="intent", motion="product_led")
    b.assign("C", "2026-03-09 10:30", sla=3600, closed="2026-03-09 10:45", mql=c)
    b.move("C", "disqualified", "2026-03-11 00:00", reason="no_budget", version=v2)

    b.lead("D", "2026-03-09 11:00", channel="paid_search", source="google", campaign="spring")
    b.score("D", version=v1, disqualify=["student"])

    b.lead("E", "2026-03-10 08:00", channel="email", source="newsletter")
    b.score("E", version=v2, disqualify=["competitor", "student"])
    b.move("E", "recycled", "2026-03-12 00:00", reason="merged", cause="merge", version=v2)

    b.lead("F", "2026-03-03 00:00", known=False)
    b.score("F", version=v1, disqualify=["student"])

    b.lead("G", "2026-03-02 00:00", merged_into="A", channel="paid_search")
    g = b.mql("G", "2026-03-05 00:00", version=v1)
    b.assign("G", "2026-03-05 00:00", sla=3600, touched="2026-03-05 00:00", mql=g)
    b.move("G", "disqualified", "2026-03-07 00:00", reason="spam", version=v1)

    b.lead("H", "2026-02-20 00:00", channel="paid_search")
    b.opportunity("o6", "H", 700, created="2026-02-25 00:00")
    h = b.mql("H", "2026-03-02 00:00", version=v1, basis="fit", motion="sales_led")
    b.assign("H", "2026-03-02 00:00", touched="2026-03-02 06:00", mql=h)
    b.move("H", "recycled", "2026-03-14 00:00", reason="not_accepted", cause="timer", version=v2)

    b.lead("I", "2026-03-15 23:59:59", channel="referral")
    b.mql("I", "2026-03-16 00:00", version=v2)
    b.move("I", "disqualified", "2026-03-20 00:00", reason="not_a_fit", version=v2)

    b.lead("J", "2026-03-01 23:59:59")
    b.score("J", version=v1, disqualify=["spam"])

    b.lead("K", "2026-03-05 00:00", channel="email")
    k = b.mql("K", "2026-03-08 00:00", version=v1, basis="intent", motion="sales_led")
    b.assign("K", "2026-03-08 00:00", sla=86400, breached="2026-03-09 00:01", mql=k)
    b.move("K", "mql", "2026-03-12 00:00", reason="merged", cause="merge", version=v1)
    b.move("K", "opportunity", "2026-03-14 00:00", reason="opportunity_open", cause="opportunity", version=v2)
    b.opportunity("o5", "K", 300, created="2026-03-14 00:00")

    b.lead("M", "2026-03-12 00:00")
    b.mql("M", "2026-03-13 06:00", type="manual", cause="api")
    b.assign("M", "2026-03-13 06:00", touched="2026-03-13 07:00")
    return v1, v2


@pytest.fixture
def march(store_url: str) -> Iterator[Scenario]:
    store = Store(store_url)
    store.upgrade()
    v1, v2 = build_march(Builder(store))
    yield Scenario(store, store_url, v1, v2)
    store.engine.dispose()


@pytest.fixture
def empty(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    store.upgrade()
    yield store
    store.engine.dispose()
