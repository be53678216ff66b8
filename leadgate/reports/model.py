"""What a report is: a window of time, an optional slice, and rows of named columns with their definitions.

Every report reads the store as of one instant (``Window.as_of``) and counts a cohort that entered in the
window ``[start, end)``; docs/reports.md defines each column, and ``Column.description`` says the same
thing in one line (a test holds the two equal).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Literal

from leadgate.errors import LeadgateError

#: The ways a report can be sliced (``--by``).
BY = ("week", "channel", "source", "campaign", "mql_type", "mql_basis", "mql_motion", "definition_version")
#: The label of a slice with no value (no first touch, no UTM value, no MQL type, no definition version).
NONE = "(none)"
#: The slice label of the total row (and of the only row of a report that is not sliced).
ALL = "all"

Kind = Literal["label", "count", "rate", "seconds", "money"]


@dataclass(frozen=True)
class Column:
    """One column of a report: its key in every row, a short title, its kind (how to format it), its
    definition (the one-line version of docs/reports.md) and the group it is printed with."""

    name: str
    title: str
    kind: Kind
    description: str
    group: str = ""  # the terminal prints a wide report as one table per group

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "kind": self.kind, "description": self.description}


#: Every report's first column.
SLICE = Column(
    "slice",
    "Slice",
    "label",
    "The slice value: week start (Monday), first-touch value, MQL type, basis, motion or definition version.",
)


def _utc_naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def parse_instant(value: str | date | datetime, what: str, *, end_of_day: bool = False) -> datetime:
    """A bound of a report: a date means its midnight (UTC), or with ``end_of_day`` the next midnight, so a
    date range includes its last day; an ISO-8601 time is used as given (naive means UTC)."""
    if isinstance(value, datetime):
        return _utc_naive(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day) + (timedelta(days=1) if end_of_day else timedelta())
    text = value.strip()
    try:
        if len(text) == 10:
            return parse_instant(date.fromisoformat(text), what, end_of_day=end_of_day)
        return _utc_naive(datetime.fromisoformat(text))
    except ValueError:
        raise LeadgateError(
            f"{what}: {value!r} is not a date or an ISO-8601 time (expected e.g. 2026-03-01 or 2026-03-01T09:00:00Z)"
        ) from None


@dataclass(frozen=True)
class Window:
    """The cohort window ``[start, end)`` and the instant ``as_of`` up to which outcomes are followed.

    Nothing at or after ``as_of`` is seen, so the cohort itself ends at ``cut = min(end, as_of)``.
    """

    start: datetime
    end: datetime
    as_of: datetime

    @classmethod
    def parse(
        cls,
        start: str | date | datetime,
        end: str | date | datetime,
        as_of: str | date | datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> Window:
        """``start`` and ``end`` as dates (``end`` inclusive: its whole day counts) or ISO-8601 times (``end``
        exclusive); ``as_of`` defaults to now, and a date means the end of that day."""
        lo = parse_instant(start, "from")
        hi = parse_instant(end, "to", end_of_day=True)
        seen = (
            parse_instant(as_of, "as_of", end_of_day=True)
            if as_of is not None
            else _utc_naive(now or datetime.now(UTC))
        )
        if hi <= lo:
            raise LeadgateError(f"to: the range from {start} to {end} is empty: it must end after it starts")
        if seen <= lo:
            raise LeadgateError(f"as_of: {seen} is not after the start of the range ({lo}): nothing would be seen")
        return cls(lo, hi, seen)

    @property
    def cut(self) -> datetime:
        """Where the cohort window really ends: at ``end``, or earlier at ``as_of``."""
        return min(self.end, self.as_of)

    def to_dict(self) -> dict[str, str]:
        return {"from": _iso(self.start), "to": _iso(self.end), "as_of": _iso(self.as_of)}


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def check_by(by: str | None) -> str | None:
    if by is None or by in BY:
        return by
    raise LeadgateError(f"by: expected one of {', '.join(BY)}, found {by!r}")


def ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole``, or None when there is nothing to divide by (never an error)."""
    if part is None or not whole:
        return None
    return part / whole


@dataclass
class Report:
    """A computed report: its rows (one per slice value, which ``slice`` holds; the reasons report has one
    per slice, kind and reason) and ``total``, the rows of the same report unsliced (``slice`` = ``all``).

    Rows of a sliced report are sorted by slice (weeks in order, definition versions by id, other values
    alphabetically with ``(none)`` last); the total is computed over the whole cohort, not summed from the
    rows (medians do not add up).  An unsliced report's rows are its total.
    """

    name: str
    title: str
    window: Window
    by: str | None
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    total: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            **self.window.to_dict(),
            "by": self.by,
            **self.params,
            "columns": [c.to_dict() for c in self.columns],
            "rows": self.rows,
            "total": self.total,
            "notes": self.notes,
        }

    def write_csv(self, out: IO[str], *, with_total: bool = False) -> int:
        """The rows as CSV (a header of column names; empty cells for null); returns the rows written.  The
        total row is left out unless asked for, so a pivot of the file does not count everything twice."""
        names = [c.name for c in self.columns]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        rows: Sequence[dict[str, Any]] = [*self.rows, *self.total] if with_total and self.by else self.rows
        for row in rows:
            writer.writerow(["" if row.get(n) is None else row[n] for n in names])
        return len(rows)
