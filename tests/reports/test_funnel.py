"""The funnel report against hand-computed values of the March scenario (tests/reports/conftest.py).

Durations in the scenario: time to MQL of the first MQLs in the window: A 1 d (86400 s), B 2 d (172800),
C 30 min (1800), H 10 d (864000), K 3 d (259200), M 30 h (108000).  Percentiles interpolate linearly
between the two nearest ranks: for sorted values v0..v(n-1), p lies at rank (n-1)·p.
"""

from __future__ import annotations

from typing import Any

import pytest

from leadgate.errors import LeadgateError
from leadgate.reports import Window, funnel
from leadgate.store.store import Store
from tests.reports.builder import Builder
from tests.reports.conftest import AS_OF, FROM, TO, Scenario

WINDOW = Window.parse(FROM, TO, AS_OF)


def by_slice(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["slice"]: r for r in rows}


def test_total_follows_every_definition(march: Scenario) -> None:
    report = funnel(march.store, WINDOW)
    (total,) = report.total
    assert report.rows == report.total
    assert total == {
        "slice": "all",
        # lead cohort: A B C D E I K M (not F: anonymous, G: merged, H and J: created outside)
        "leads": 8,
        "leads_qualified": 6,  # A B C K M, and I whose MQL (03-16) is after the window but before as_of
        "mql_rate": 6 / 8,
        # MQL cohort: A, B (new), B (reactivated), C, H (at the start instant), K (not its merge row), M (manual)
        "mqls": 7,
        "mqls_per_lead": 7 / 8,  # the "MQLs ÷ leads": volume of one cohort over the other
        "reactivated_mqls": 1,
        # sorted 1800, 86400, 108000, 172800, 259200, 864000: rank 2.5 and 4.5
        "time_to_mql_median_seconds": pytest.approx(108000 + 0.5 * (172800 - 108000)),
        "time_to_mql_p90_seconds": pytest.approx(259200 + 0.5 * (864000 - 259200)),
        "sqls": 3,  # A (sql), B's second MQL (sql), K (straight to opportunity)
        "mql_to_sql_rate": pytest.approx(3 / 7),
        "customers": 1,  # A, on 03-20: after the window, before as_of
        "mql_to_customer_rate": pytest.approx(1 / 7),
        "pipeline": 3800.0,  # o1 1000 + o2 500 (A) + o3 2000 (B's second episode) + o5 300 (K); not o4 EUR, o6
        "revenue": 1000.0,  # o1
        "pipeline_per_mql": round(3800 / 7, 2),
        "revenue_per_mql": round(1000 / 7, 2),
        "recycled": 2,  # B's first MQL, H (auto-recycled)
        "recycle_rate": pytest.approx(2 / 7),
        "requalified": 1,  # B
        "requalification_rate": 0.5,
        "disqualified": 1,  # C (G is merged)
        "disqualification_rate": pytest.approx(1 / 7),
    }
    assert [c.name for c in report.columns] == list(total)
    assert report.notes == [
        "1 opportunities of MQL leads in other currencies than USD are not in pipeline or revenue "
        "(no conversion: run the report per currency)"
    ]


def test_by_week_leads_by_creation_week_and_mqls_by_mql_week(march: Scenario) -> None:
    rows = funnel(march.store, WINDOW, "week").rows
    assert [r["slice"] for r in rows] == ["2026-03-02", "2026-03-09"]
    first, second = rows
    # week of 03-02: leads A B K; MQLs H (03-02 00:00), A, B, K; time to MQL 86400, 172800, 259200, 864000
    assert (first["leads"], first["leads_qualified"], first["mql_rate"]) == (3, 3, 1.0)
    assert (first["mqls"], first["reactivated_mqls"], first["sqls"], first["customers"]) == (4, 0, 2, 1)
    assert first["mqls_per_lead"] == pytest.approx(4 / 3)  # H was created before the window: above 1
    assert first["time_to_mql_median_seconds"] == pytest.approx(172800 + 0.5 * 86400)
    assert first["time_to_mql_p90_seconds"] == pytest.approx(259200 + 0.7 * (864000 - 259200))
    assert (first["pipeline"], first["revenue"], first["pipeline_per_mql"], first["revenue_per_mql"]) == (
        1800.0,
        1000.0,
        450.0,
        250.0,
    )
    assert (first["recycled"], first["requalified"], first["requalification_rate"]) == (2, 1, 0.5)
    # week of 03-09: leads C D E I M (I at 23:59:59 on the last day); MQLs C, B (reactivated), M
    assert (second["leads"], second["leads_qualified"], second["mql_rate"]) == (5, 3, 0.6)
    assert (second["mqls"], second["reactivated_mqls"], second["sqls"], second["customers"]) == (3, 1, 1, 0)
    assert second["mqls_per_lead"] == pytest.approx(3 / 5)
    assert second["time_to_mql_median_seconds"] == pytest.approx((1800 + 108000) / 2)
    assert second["time_to_mql_p90_seconds"] == pytest.approx(1800 + 0.9 * (108000 - 1800))
    assert (second["pipeline"], second["revenue"]) == (2000.0, 0.0)  # B's deal goes to its second MQL
    assert (second["recycled"], second["recycle_rate"]) == (0, 0.0)
    assert second["requalification_rate"] is None  # nothing recycled: no rate, not an error
    assert (second["disqualified"], second["disqualification_rate"]) == (1, pytest.approx(1 / 3))


def test_empty_weeks_are_rows_of_zeros(march: Scenario) -> None:
    rows = funnel(march.store, Window.parse("2026-03-02", "2026-03-29", AS_OF), "week").rows
    assert [r["slice"] for r in rows] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    last = rows[-1]
    assert (last["leads"], last["mqls"], last["pipeline"]) == (0, 0, 0.0)
    assert last["mql_rate"] is None and last["mql_to_sql_rate"] is None and last["pipeline_per_mql"] is None
    assert rows[2]["mqls"] == 1  # I, 2026-03-16 00:00


def test_by_channel_with_leads_without_first_touch_as_none(march: Scenario) -> None:
    report = funnel(march.store, WINDOW, "channel")
    assert [r["slice"] for r in report.rows] == ["email", "organic_search", "paid_search", "referral", "(none)"]
    rows = by_slice(report.rows)
    assert {k: (r["leads"], r["leads_qualified"], r["mqls"]) for k, r in rows.items()} == {
        "email": (2, 1, 1),  # E, K
        "organic_search": (1, 1, 2),  # B, twice an MQL
        "paid_search": (2, 1, 2),  # A, D; MQLs A and H (created before the window)
        "referral": (1, 1, 0),  # I: qualified, but its MQL is after the window
        "(none)": (2, 2, 2),  # C, M
    }
    assert rows["referral"]["mql_to_sql_rate"] is None
    paid = rows["paid_search"]
    assert paid["time_to_mql_median_seconds"] == pytest.approx((86400 + 864000) / 2)
    assert (paid["pipeline"], paid["revenue"], paid["pipeline_per_mql"]) == (1500.0, 1000.0, 750.0)
    assert (paid["recycled"], paid["requalified"], paid["requalification_rate"]) == (1, 0, 0.0)
    assert rows["organic_search"]["requalification_rate"] == 1.0
    assert rows["(none)"]["disqualified"] == 1
    assert report.total[0]["mqls"] == sum(r["mqls"] for r in report.rows)


def test_by_source_and_campaign(march: Scenario) -> None:
    sources = by_slice(funnel(march.store, WINDOW, "source").rows)
    assert {k: r["mqls"] for k, r in sources.items()} == {"google": 3, "newsletter": 0, "(none)": 4}  # E: a lead
    campaigns = by_slice(funnel(march.store, WINDOW, "campaign").rows)
    assert {k: (r["leads"], r["mqls"]) for k, r in campaigns.items()} == {"spring": (2, 1), "(none)": (6, 6)}


def test_by_mql_type_gives_leads_only_in_the_total(march: Scenario) -> None:
    report = funnel(march.store, WINDOW, "mql_type")
    rows = by_slice(report.rows)
    assert list(rows) == ["manual", "new", "reactivated"]
    assert {k: r["mqls"] for k, r in rows.items()} == {"manual": 1, "new": 5, "reactivated": 1}
    assert all(r["leads"] is None and r["mql_rate"] is None and r["mqls_per_lead"] is None for r in report.rows)
    assert report.total[0]["leads"] == 8
    assert rows["reactivated"]["time_to_mql_median_seconds"] is None  # not a first MQL
    assert rows["new"]["time_to_mql_p90_seconds"] == pytest.approx(259200 + 0.6 * (864000 - 259200))
    assert (rows["reactivated"]["sqls"], rows["reactivated"]["pipeline"]) == (1, 2000.0)
    assert "leads that never became MQLs have no mql_type" in report.notes[-1]


def test_by_mql_basis(march: Scenario) -> None:
    rows = by_slice(funnel(march.store, WINDOW, "mql_basis").rows)
    assert list(rows) == ["fit", "intent", "(none)"]
    fit, intent = rows["fit"], rows["intent"]
    assert (fit["mqls"], fit["sqls"], fit["recycled"], fit["requalified"], fit["leads"]) == (2, 0, 2, 1, None)  # B, H
    assert (intent["mqls"], intent["sqls"], intent["customers"], intent["pipeline"]) == (4, 3, 1, 3800.0)  # A B C K
    assert intent["time_to_mql_median_seconds"] == 86400  # first MQLs A, C, K: 1800, 86400, 259200
    assert rows["(none)"]["mqls"] == 1  # M: a manual move records no basis


def test_by_definition_version_labels_versions(march: Scenario) -> None:
    rows = funnel(march.store, WINDOW, "definition_version").rows
    assert [(r["slice"], r["mqls"]) for r in rows] == [("classic v1", 4), ("classic v2", 2), ("(none)", 1)]


def test_as_of_cuts_the_cohort_and_its_outcomes(march: Scenario) -> None:
    (total,) = funnel(march.store, Window.parse(FROM, TO, "2026-03-08T12:00:00")).rows
    # cohort up to 03-08 12:00: leads A B K; MQLs H A B K
    assert (total["leads"], total["leads_qualified"], total["mqls"]) == (3, 3, 4)
    assert total["sqls"] == 1  # A; K's opportunity (03-14) is not seen yet
    assert total["customers"] == 0  # A becomes a customer on 03-20
    assert total["pipeline"] == 1500.0  # A's o1 + o2; o5 (03-14) not yet created
    assert total["revenue"] == 1000.0  # o1's status is read as it is now (no opportunity history)
    assert (total["recycled"], total["requalified"]) == (1, 0)  # B recycled; its reactivation is on 03-10


def test_range_bounds_are_inclusive_days(march: Scenario) -> None:
    (day,) = funnel(march.store, Window.parse("2026-03-02", "2026-03-02", AS_OF)).rows
    assert (day["leads"], day["mqls"]) == (2, 1)  # A and B (not J at 03-01 23:59:59); H's MQL at 00:00
    (next_day,) = funnel(march.store, Window.parse("2026-03-16", "2026-03-16", AS_OF)).rows
    assert (next_day["leads"], next_day["mqls"]) == (0, 1)  # I's MQL at 00:00; I was created the day before
    (exclusive,) = funnel(march.store, Window.parse("2026-03-02", "2026-03-16T00:00:00", AS_OF)).rows
    assert exclusive["mqls"] == 7  # a time as the end is exclusive: I's MQL at 03-16 00:00 is out


def test_report_currency(march: Scenario) -> None:
    report = funnel(march.store, WINDOW, currency="eur")
    assert report.params == {"currency": "EUR"}
    assert (report.total[0]["pipeline"], report.total[0]["revenue"]) == (900.0, 0.0)
    assert report.notes[0].startswith("5 opportunities of MQL leads in other currencies than EUR")


def test_empty_store_gives_zeros_and_no_rates(empty: Store) -> None:
    (total,) = funnel(empty, WINDOW).rows
    assert total["leads"] == total["mqls"] == total["sqls"] == 0
    rates = ("mql_rate", "mql_to_sql_rate", "mql_to_customer_rate", "recycle_rate", "requalification_rate")
    assert all(total[name] is None for name in rates)
    assert total["time_to_mql_median_seconds"] is None and total["pipeline_per_mql"] is None
    assert funnel(empty, WINDOW, "channel").rows == []


def test_merged_leads_and_merge_rows_are_not_counted(empty: Store) -> None:
    b = Builder(empty)
    b.lead("survivor", "2026-03-02 00:00")
    b.lead("loser", "2026-03-02 00:00", merged_into="survivor")
    b.mql("loser", "2026-03-03 00:00")  # history not (yet) moved to the survivor: the merged lead is ignored
    b.mql("survivor", "2026-03-04 00:00")
    b.move("survivor", "mql", "2026-03-05 00:00", cause="merge", reason="merged")
    b.move("survivor", "sql", "2026-03-06 00:00", cause="merge", reason="merged")
    (total,) = funnel(empty, WINDOW).rows
    assert (total["leads"], total["mqls"], total["sqls"]) == (1, 1, 0)


def test_a_lead_with_several_mqls_has_one_episode_each(empty: Store) -> None:
    b = Builder(empty)
    b.lead("L", "2026-03-02 00:00")
    b.mql("L", "2026-03-03 00:00")
    b.move("L", "recycled", "2026-03-04 00:00", reason="no_response")
    b.mql("L", "2026-03-05 00:00", type="reactivated")
    b.move("L", "recycled", "2026-03-06 00:00", reason="timing")
    b.mql("L", "2026-03-07 00:00", type="reactivated")
    b.move("L", "sql", "2026-03-08 00:00")
    b.opportunity("deal", "L", 5000, created="2026-03-09 00:00", status="won")
    b.move("L", "customer", "2026-03-10 00:00", cause="opportunity")
    (total,) = funnel(empty, WINDOW).rows
    assert (total["leads"], total["leads_qualified"], total["mqls"], total["reactivated_mqls"]) == (1, 1, 3, 2)
    assert (total["recycled"], total["requalified"], total["requalification_rate"]) == (2, 2, 1.0)
    assert (total["sqls"], total["customers"], total["revenue"]) == (1, 1, 5000.0)  # only the third MQL's
    assert total["time_to_mql_median_seconds"] == 86400  # from the first MQL only
    assert total["revenue_per_mql"] == round(5000 / 3, 2)


def test_window_errors_are_clear() -> None:
    with pytest.raises(LeadgateError, match="from: '2026-13-01' is not a date"):
        Window.parse("2026-13-01", "2026-03-01")
    with pytest.raises(LeadgateError, match="to: the range from 2026-03-02 to 2026-03-01 is empty"):
        Window.parse("2026-03-02", "2026-03-01")
    with pytest.raises(LeadgateError, match=r"as_of: .* is not after the start"):
        Window.parse("2026-03-02", "2026-03-08", "2026-03-01")
    with pytest.raises(
        LeadgateError, match="currency: expected a three-letter ISO 4217 code such as USD, found 'EURO'"
    ):
        funnel(None, WINDOW, currency="euro")  # type: ignore[arg-type]
    with pytest.raises(LeadgateError, match="by: expected one of week, channel"):
        funnel(None, WINDOW, "owner")  # type: ignore[arg-type]  (checked before the store is touched)
