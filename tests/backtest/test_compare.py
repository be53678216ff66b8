"""Comparing two definitions: significance of rate differences and the plain-words verdict."""

from __future__ import annotations

import math

import pytest

from leadgate.backtest.compare import _p_means, _p_proportions, compare
from leadgate.backtest.periods import Period
from leadgate.backtest.report import DefinitionReport, MqlRecord, metrics


def test_two_proportion_test_matches_a_hand_computation() -> None:
    # 60/200 vs 40/200: pooled 0.25, se = sqrt(0.25 * 0.75 * 0.01) = 0.0433, z = 0.1 / 0.0433 = 2.309
    p = _p_proportions(60, 200, 40, 200)
    assert p == pytest.approx(math.erfc(2.3094 / math.sqrt(2)), rel=1e-3)
    assert p == pytest.approx(0.0209, abs=5e-4)
    assert _p_proportions(5, 10, 5, 10) == 1.0
    assert _p_proportions(0, 0, 1, 2) is None


def test_welch_z_for_means() -> None:
    assert _p_means([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert _p_means([0.0, 0.0], [5.0, 5.0]) == 0.0
    assert _p_means([1.0], [2.0, 3.0]) is None
    a, b = [10.0, 12.0, 11.0, 13.0] * 25, [10.0, 11.0, 10.5, 12.0] * 25
    assert 0 < _p_means(a, b) < 0.05  # type: ignore[operator]


def report(name: str, outcomes: list[tuple[str, bool, bool, float]]) -> DefinitionReport:
    """A report whose MQLs have the given (lead id, became SQL, won, revenue) outcomes."""
    records = [
        MqlRecord(lead, 1, 1000.0, "event", 0.0, 1.0, sql, None, False, won, won, revenue)
        for lead, sql, won, revenue in outcomes
    ]
    total = metrics(records, 1000, 1000, True)
    return DefinitionReport(name, "1", name, "changes", 0, [(Period(1, 0.0, 1000.0), total)], total, records)


def leads(prefix: str, n: int, sql_every: int, won_every: int) -> list[tuple[str, bool, bool, float]]:
    return [
        (f"{prefix}{i}", i % sql_every == 0, i % won_every == 0, 100.0 if i % won_every == 0 else 0.0) for i in range(n)
    ]


def test_more_volume_with_the_same_quality_is_volume_only() -> None:
    base = report("base", leads("a", 400, 4, 10))
    new = report("new", leads("a", 400, 4, 10) + leads("b", 200, 4, 10))
    c = compare(new, base, True)
    assert c.verdict == "volume only"
    assert len(c.gained) == 200 and c.lost == [] and c.in_both == 400
    assert "Only volume changes" in c.summary and "+200 (+50.0%)" in c.summary


def test_a_real_rise_in_sql_rate_is_better_quality() -> None:
    base = report("base", leads("a", 400, 4, 10))  # 25 % SQL
    new = report("new", leads("b", 400, 2, 10))  # 50 % SQL, same customers
    c = compare(new, base, True)
    assert [d.verdict for d in c.quality] == ["better", "no clear change", "no clear change"]
    assert c.verdict == "better quality"
    assert "It improves lead quality: MQL→SQL rises significantly." in c.summary


def test_worse_and_mixed() -> None:
    base = report("base", leads("a", 400, 2, 5))
    assert compare(report("new", leads("b", 400, 4, 5)), base, True).verdict == "worse quality"
    mixed = compare(report("new", leads("b", 400, 1, 20)), base, True)
    assert mixed.verdict == "mixed"
    assert "Mixed: MQL→SQL improves but MQL→customer and revenue per MQL fall." in mixed.summary


def test_without_outcomes_only_volume_is_compared() -> None:
    c = compare(report("new", leads("a", 10, 2, 2)), report("base", leads("a", 5, 2, 2)), False)
    assert c.verdict == "volume (no outcomes)" and c.quality == []
    assert "only volume can be compared" in c.summary
