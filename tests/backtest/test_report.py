"""Backtest numbers on the hand-worked history of ``tiny``: per period and in total, with outcomes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from leadgate.backtest import History, Snapshots, backtest
from leadgate.backtest.outcomes import Outcomes
from tests.backtest import tiny

WEEKS = Snapshots.between(tiny.at(0), tiny.at(21), "week")


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return backtest(
        tiny.definition(), History(data=tiny.dataset()), WEEKS, outcomes=Outcomes.from_table(tiny.outcomes_table())
    )


def test_volume_rates_and_time_to_mql(report) -> None:  # type: ignore[no-untyped-def]
    d = report.definition
    assert d.mqls_at_start == 1  # C
    p1, p2, p3 = (m for _, m in d.periods)
    # leads existing at each period's end (G's creation is unknown: it always exists), and created in it
    assert (p1.leads, p1.new_leads, p1.mqls, p1.mql_rate) == (6, 1, 1, 1.0)
    assert (p2.leads, p2.new_leads, p2.mqls, p2.mql_rate) == (6, 0, 2, None)
    assert (p3.leads, p3.new_leads, p3.mqls, p3.mql_rate) == (7, 1, 2, 2.0)
    assert p1.days_to_mql_median == pytest.approx(12 + 10 / 24)  # A: created -10d, MQL +2d10h
    assert p2.days_to_mql_median == pytest.approx((11 + 37.5) / 2)  # B 11 days, F 37.5 days
    assert p2.days_to_mql_p90 == pytest.approx(11 + 0.9 * 26.5)
    assert p3.days_to_mql_median == 0.0  # E qualifies as it is created; G's creation is unknown
    t = d.total
    assert (t.leads, t.new_leads, t.mqls, t.mql_rate) == (7, 2, 5, 2.5)
    assert t.days_to_mql_median == pytest.approx((11 + 12 + 10 / 24) / 2)


def test_outcomes_after_the_mql(report) -> None:  # type: ignore[no-untyped-def]
    d = report.definition
    p1, p2, p3 = (m for _, m in d.periods)
    assert (p1.sqls, p1.already_sql, p1.customers, p1.revenue) == (1, 0, 1, 1000.0)  # A
    assert (p2.sqls, p2.already_sql, p2.customers, p2.revenue) == (0, 1, 0, 0.0)  # B was an SQL first; F none
    assert (p3.sqls, p3.already_sql, p3.customers) == (2, 0, 0)  # E after its MQL; G at an unknown time
    t = d.total
    assert (t.sqls, t.already_sql, t.opportunities, t.customers, t.revenue) == (3, 1, 1, 1, 1000.0)
    assert (t.sql_rate, t.customer_rate, t.revenue_per_mql) == (0.6, 0.2, 200.0)
    records = {r.lead_id: r for r in d.mqls}
    assert records["B"].already_sql and records["B"].won and not records["A"].already_sql
    assert records["F"].became_sql is False and records["G"].sql_at is None


def test_without_outcomes_the_outcome_numbers_are_absent() -> None:
    d = backtest(tiny.definition(), History(data=tiny.dataset()), WEEKS).definition
    assert d.total.mqls == 5
    assert d.total.sqls is None and d.total.sql_rate is None and d.mqls[0].became_sql is None


def test_json_and_csv(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report.write(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["snapshots"] == ["2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z",
                                 "2026-03-22T00:00:00Z"]  # fmt: skip
    assert data["definition"]["total"]["mqls"] == 5
    assert [m["lead_id"] for m in data["definition"]["mqls"]] == ["A", "F", "B", "E", "G"]
    assert data["definition"]["mqls"][1]["mql_at"] == "2026-03-08T12:00:00Z"
    report.write(tmp_path / "r.csv")
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["period"] for r in rows] == ["1", "2", "3", "total"]
    assert [r["mqls"] for r in rows] == ["1", "2", "2", "5"]
    report.write_mqls(tmp_path / "m.csv")
    mqls = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert [(m["lead_id"], m["how"]) for m in mqls] == [
        ("A", "event"), ("F", "window"), ("B", "event"), ("E", "created"), ("G", "event")
    ]  # fmt: skip


def test_against_itself_changes_nothing() -> None:
    r = backtest(
        tiny.definition(),
        History(data=tiny.dataset()),
        WEEKS,
        against=tiny.definition(),
        outcomes=Outcomes.from_table(tiny.outcomes_table()),
    )
    c = r.comparison
    assert c is not None
    assert (c.gained, c.lost, c.in_both, c.earlier, c.later) == ([], [], 5, 0, 0)
    assert c.verdict == "no change"
    assert [d.verdict for d in c.quality] == ["no clear change"] * 3


def test_against_a_stricter_baseline() -> None:
    """The baseline needs 80 points: only B (pricing 30 + demo 50) reaches it; tiny (70) gains A, E, F, G."""
    stricter = tiny.definition(tiny.DEFINITION.replace("threshold: 70", "threshold: 80"))
    r = backtest(
        tiny.definition(),
        History(data=tiny.dataset()),
        WEEKS,
        against=stricter,
        outcomes=Outcomes.from_table(tiny.outcomes_table()),
    )
    assert r.baseline is not None and r.comparison is not None
    assert [m.lead_id for m in r.baseline.mqls] == ["B"]
    assert r.comparison.gained == ["A", "E", "F", "G"] and r.comparison.lost == []
    assert r.comparison.volume.baseline == 1 and r.comparison.volume.value == 5
    assert r.comparison.gained_metrics.sqls == 3  # A, E, G
    assert "5 MQLs against 1" in r.comparison.summary
