"""The reports read what the lifecycle code writes: leads qualified, routed, touched, accepted, rejected and
recycled through the real store functions (docs/lifecycle.md), then reported.  The other report tests write
the rows directly; this one holds the two sides of the contract together."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from leadgate.reports import Window, funnel, reasons, speed
from leadgate.store import feedback, revenue
from leadgate.store.clock import utcnow
from leadgate.store.store import Store
from tests.store.lifecycle_helpers import add_lead, ready


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready(store_url)
    yield st
    st.engine.dispose()


def test_reports_of_a_lifecycle_written_by_the_store(store: Store) -> None:
    for lead in ("ann", "bob", "cy"):
        assert add_lead(store, lead) == [lead]  # qualifies, routed by the demo_request route (SLA 5 min)
    assert add_lead(store, "dan", events=[("webinar_attended", {})]) == []  # engaged, no MQL
    feedback.touch(store, "ann", actor="carol", channel="call")
    feedback.accept(store, "ann", actor="carol")
    revenue.save(store, revenue.OpportunityIn(id="deal-1", lead_id="ann", amount=1200, status="won"), actor="crm")
    feedback.reject(store, "bob", reason="no_budget", actor="dan")
    feedback.recycle(store, "cy", reason="not_now", actor="dan")

    today = utcnow().date()
    window = Window.parse(today - timedelta(days=1), today + timedelta(days=1))
    (total,) = funnel(store, window).total
    assert (total["leads"], total["leads_qualified"], total["mqls"]) == (4, 3, 3)
    assert (total["sqls"], total["customers"], total["revenue"], total["pipeline"]) == (1, 1, 1200.0, 1200.0)
    assert (total["recycled"], total["disqualified"], total["requalified"]) == (1, 1, 0)
    assert total["time_to_mql_median_seconds"] is not None and total["time_to_mql_median_seconds"] >= 0

    channels = {r["slice"]: r["mqls"] for r in funnel(store, window, "channel").rows}
    assert channels == {"direct": 3}  # the first touch is the earliest event: a demo request, no campaign
    assert {r["slice"] for r in funnel(store, window, "mql_type").rows} == {"new"}

    (sla,) = speed(store, window).total
    assert (sla["assignments"], sla["touched"], sla["with_sla"]) == (3, 1, 3)
    assert sla["sla_met"] == 1 and sla["speed_to_lead_median_seconds"] is not None
    assert sla["sla_closed_untouched"] == 2  # rejected and recycled within the 5 minutes, untouched

    got = {(r["kind"], r["reason"]): r["count"] for r in reasons(store, window).total}
    assert got == {("disqualified", "no_budget"): 1, ("recycled", "not_now"): 1}
