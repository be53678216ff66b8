"""Speed to lead and SLA attainment against hand-computed values of the March scenario.

Assignments in the window: A (SLA 1 h, touched after 30 min: met), B (SLA 1 h, touched after 3 h: breached),
B again (SLA 24 h, never touched, due 03-11 12:00: breached although the timer never set breached_at),
C (SLA 1 h, closed after 15 min untouched), H (no SLA, touched after 6 h), K (SLA 24 h, untouched: breached),
M (no SLA, no MQL link, touched after 1 h).  G's assignment belongs to a merged lead.
"""

from __future__ import annotations

import pytest

from leadgate.reports import Window
from leadgate.reports.speed import speed
from leadgate.store.store import Store
from tests.reports.builder import Builder
from tests.reports.conftest import AS_OF, FROM, TO, Scenario

WINDOW = Window.parse(FROM, TO, AS_OF)


def test_total(march: Scenario) -> None:
    (total,) = speed(march.store, WINDOW).rows
    assert total == {
        "slice": "all",
        "assignments": 7,
        "touched": 4,
        "untouched": 3,
        # sorted 1800 (A), 3600 (M), 10800 (B), 21600 (H): ranks 1.5 and 2.7
        "speed_to_lead_median_seconds": pytest.approx(3600 + 0.5 * 7200),
        "speed_to_lead_p90_seconds": pytest.approx(10800 + 0.7 * 10800),
        "with_sla": 5,
        "sla_met": 1,
        "sla_breached": 3,
        "sla_closed_untouched": 1,
        "sla_pending": 0,
        "sla_attainment": 1 / 4,
    }


def test_as_of_leaves_an_sla_pending(march: Scenario) -> None:
    (total,) = speed(march.store, Window.parse(FROM, TO, "2026-03-08T12:00:00")).rows
    # A, B, H, K assigned by then; K is due 03-09 00:00: not yet breached
    assert (total["assignments"], total["touched"], total["with_sla"]) == (4, 3, 3)
    assert (total["sla_met"], total["sla_breached"], total["sla_pending"]) == (1, 1, 1)
    assert total["sla_attainment"] == 0.5
    assert total["speed_to_lead_median_seconds"] == 10800  # 1800, 10800, 21600


def test_by_mql_type_through_the_assignments_mql(march: Scenario) -> None:
    rows = {r["slice"]: r for r in speed(march.store, WINDOW, "mql_type").rows}
    assert {k: (r["assignments"], r["sla_met"], r["sla_breached"]) for k, r in rows.items()} == {
        "new": (5, 1, 2),  # A B C H K
        "reactivated": (1, 0, 1),  # B's second
        "(none)": (1, 0, 0),  # M: no MQL link
    }
    assert rows["(none)"]["sla_attainment"] is None


def test_by_mql_motion(march: Scenario) -> None:
    rows = {r["slice"]: r for r in speed(march.store, WINDOW, "mql_motion").rows}
    assert {k: (r["assignments"], r["touched"], r["sla_attainment"]) for k, r in rows.items()} == {
        "product_led": (2, 0, 0.0),  # B's second (breached), C (closed untouched)
        "sales_led": (4, 3, pytest.approx(1 / 3)),  # A met; B, K breached; H without SLA
        "(none)": (1, 1, None),  # M
    }


def test_by_week_and_channel(march: Scenario) -> None:
    weeks = speed(march.store, WINDOW, "week").rows
    assert [(r["slice"], r["assignments"], r["sla_attainment"]) for r in weeks] == [
        ("2026-03-02", 4, pytest.approx(1 / 3)),  # A met; B, K breached
        ("2026-03-09", 3, 0.0),  # B breached, C closed untouched, M without SLA
    ]
    channels = {r["slice"]: r["assignments"] for r in speed(march.store, WINDOW, "channel").rows}
    assert channels == {"email": 1, "organic_search": 2, "paid_search": 2, "(none)": 2}


def test_touch_at_the_due_instant_meets_the_sla(empty: Store) -> None:
    b = Builder(empty)
    b.lead("L", "2026-03-02 00:00")
    b.assign("L", "2026-03-02 00:00", sla=300, touched="2026-03-02 00:05")
    b.lead("N", "2026-03-02 00:00")
    b.assign("N", "2026-03-02 00:00", sla=300, touched="2026-03-02 00:05:00.000001")
    (total,) = speed(empty, WINDOW).rows
    assert (total["sla_met"], total["sla_breached"], total["sla_attainment"]) == (1, 1, 0.5)
    assert total["speed_to_lead_median_seconds"] == pytest.approx(300.0000005)


def test_empty(empty: Store) -> None:
    (total,) = speed(empty, WINDOW).rows
    assert total["assignments"] == 0
    assert total["sla_attainment"] is None and total["speed_to_lead_p90_seconds"] is None
