"""Snapshots and periods: steps, the partial last period, calendar months, boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadgate.backtest.periods import Snapshots, iso, parse_instant
from leadgate.errors import LeadgateError


def isos(s: Snapshots) -> list[str]:
    return [iso(t) for t in s.instants]


def test_weeks_with_a_shorter_last_period() -> None:
    s = Snapshots.between("2026-08-01", "2026-08-20", "week")
    assert isos(s) == ["2026-08-01T00:00:00Z", "2026-08-08T00:00:00Z", "2026-08-15T00:00:00Z", "2026-08-20T00:00:00Z"]
    assert [p.index for p in s.periods] == [1, 2, 3]
    assert s.periods[-1].end - s.periods[-1].start == 5 * 86400


def test_whole_weeks_end_on_the_last_step() -> None:
    s = Snapshots.between("2026-08-03", "2026-11-02", "week")
    assert len(s.periods) == 13
    assert iso(s.end) == "2026-11-02T00:00:00Z"


def test_days_and_times() -> None:
    s = Snapshots.between("2026-08-01T12:00:00Z", "2026-08-03T12:00:00+00:00", "day")
    assert isos(s) == ["2026-08-01T12:00:00Z", "2026-08-02T12:00:00Z", "2026-08-03T12:00:00Z"]


def test_calendar_months_clamp_the_day_and_do_not_drift() -> None:
    s = Snapshots.between("2026-01-31", "2026-05-15", "month")
    assert [t[:10] for t in isos(s)] == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-15"]


def test_periods_are_open_at_the_start_and_closed_at_the_end() -> None:
    s = Snapshots.between("2026-08-01", "2026-08-15", "week")
    t0, t1, t2 = s.instants
    assert s.period_of(t0) is None  # the start belongs to no period: a lead qualified then was already an MQL
    assert s.period_of(t0 + 1e-6) == 1
    assert s.period_of(t1) == 1 and s.periods[0].contains(t1) and not s.periods[1].contains(t1)
    assert s.period_of(t1 + 1e-6) == 2
    assert s.period_of(t2) == 2 and s.period_of(t2 + 1) is None


def test_parse_instant() -> None:
    assert parse_instant("2026-08-01") == datetime(2026, 8, 1, tzinfo=UTC).timestamp()
    assert parse_instant(date(2026, 8, 1)) == parse_instant("2026-08-01T00:00:00Z")
    assert parse_instant("2026-08-01T02:00:00+02:00") == parse_instant("2026-08-01")
    with pytest.raises(LeadgateError, match="not an ISO-8601"):
        parse_instant("first of august")


@pytest.mark.parametrize(
    ("start", "end", "every", "message"),
    [
        ("2026-08-02", "2026-08-01", "week", "must be after"),
        ("2026-08-01", "2026-08-01", "day", "must be after"),
        ("2026-08-01", "2026-09-01", "fortnight", "expected one of day, week, month"),
    ],
)
def test_bad_ranges(start: str, end: str, every: str, message: str) -> None:
    with pytest.raises(LeadgateError, match=message):
        Snapshots.between(start, end, every)


def test_custom_snapshots_must_ascend() -> None:
    with pytest.raises(LeadgateError, match="ascending"):
        Snapshots((2.0, 1.0))
    with pytest.raises(LeadgateError, match="at least one later"):
        Snapshots((1.0,))
