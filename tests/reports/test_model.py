"""Windows (dates are whole days, times are exact, everything UTC) and the report's CSV form."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from leadgate.reports import Column, Report, Window
from leadgate.reports.model import ratio


def test_dates_are_whole_days_and_times_exact() -> None:
    w = Window.parse("2026-03-02", "2026-03-15", "2026-03-31")
    assert (w.start, w.end, w.as_of) == (datetime(2026, 3, 2), datetime(2026, 3, 16), datetime(2026, 4, 1))
    w = Window.parse("2026-03-02T05:30:00Z", "2026-03-02T10:00:00+02:00", "2026-03-02T07:00:00")
    assert (w.start, w.end, w.as_of) == (datetime(2026, 3, 2, 5, 30), datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 7))
    assert w.cut == datetime(2026, 3, 2, 7)  # nothing after as_of is seen
    w = Window.parse(date(2026, 3, 2), date(2026, 3, 2), now=datetime(2026, 3, 5, 12, tzinfo=UTC))
    assert (w.end, w.as_of, w.cut) == (datetime(2026, 3, 3), datetime(2026, 3, 5, 12), datetime(2026, 3, 3))
    assert w.to_dict() == {
        "from": "2026-03-02T00:00:00Z",
        "to": "2026-03-03T00:00:00Z",
        "as_of": "2026-03-05T12:00:00Z",
    }


def test_ratio_never_divides_by_zero() -> None:
    assert (ratio(1, 4), ratio(0, 4), ratio(1, 0), ratio(0, 0), ratio(None, 3)) == (0.25, 0.0, None, None, None)


def test_csv_has_the_column_names_and_leaves_null_empty() -> None:
    columns = (Column("slice", "Slice", "label", ""), Column("mqls", "MQLs", "count", ""))
    report = Report(
        "t", "T", Window.parse("2026-03-02", "2026-03-08"), "week", columns,
        rows=[{"slice": "2026-03-02", "mqls": 3}, {"slice": "2026-03-09", "mqls": None}],
        total=[{"slice": "all", "mqls": 3}],
    )  # fmt: skip
    out = io.StringIO()
    assert report.write_csv(out) == 2
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["slice", "mqls"], ["2026-03-02", "3"], ["2026-03-09", ""]]
    out = io.StringIO()
    assert report.write_csv(out, with_total=True) == 3
    assert out.getvalue().splitlines()[-1] == "all,3"
