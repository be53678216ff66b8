"""Snapshots and periods: when a backtest looks at history.

``Snapshots.between(start, end, every)`` gives the instants ``T_0 = start < T_1 < … < T_n = end``, one
step apart (a day, a week, or a calendar month counted from ``start``, the day of the month clamped to
the month's length); the last period is shorter when the range is not a whole number of steps.
Period ``i`` (1-based) is ``(T_{i−1}, T_i]``: open at its start, closed at its end, like a window.
A lead that qualifies at ``T_0`` was an MQL before the backtest starts; one that first qualifies at
``T_i`` became an MQL in period ``i``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from leadgate.compiler import as_of_epoch
from leadgate.errors import LeadgateError

EVERY = ("day", "week", "month")


def parse_instant(text: str | date | datetime | float) -> float:
    """Epoch seconds of an ISO date (midnight UTC) or date-time (naive means UTC)."""
    if isinstance(text, (int, float)):
        return as_of_epoch(float(text))
    if isinstance(text, datetime):
        return as_of_epoch(text)
    if isinstance(text, date):
        return as_of_epoch(datetime(text.year, text.month, text.day, tzinfo=UTC))
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LeadgateError(
            f"'{text}' is not an ISO-8601 date or time (e.g. 2026-08-01 or 2026-08-01T12:00Z)"
        ) from None
    return as_of_epoch(parsed)


def iso(t: float) -> str:
    """An instant as ISO-8601 UTC text with a Z (seconds, or microseconds when it has them)."""
    when = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=round(t * 1_000_000))
    spec = "seconds" if when.microsecond == 0 else "microseconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def _add_months(when: datetime, months: int) -> datetime:
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Period:
    """``(start, end]`` in epoch seconds; ``index`` counts from 1."""

    index: int
    start: float
    end: float

    @property
    def label(self) -> str:
        return f"{iso(self.start)[:10]} → {iso(self.end)[:10]}"

    def contains(self, t: float) -> bool:
        return self.start < t <= self.end


@dataclass(frozen=True)
class Snapshots:
    """Ascending instants (epoch seconds); ``instants[0]`` is the backtest's start."""

    instants: tuple[float, ...]
    every: str = "custom"

    def __post_init__(self) -> None:
        if len(self.instants) < 2:
            raise LeadgateError("a backtest needs a start and at least one later snapshot")
        if any(b <= a for a, b in pairwise(self.instants)):
            raise LeadgateError("snapshots must be in ascending order, without repeats")

    @classmethod
    def between(
        cls, start: str | date | datetime | float, end: str | date | datetime | float, every: str = "week"
    ) -> Snapshots:
        """Snapshots from ``start`` to ``end`` (both included) every day, week or calendar month."""
        if every not in EVERY:
            raise LeadgateError(f"every: expected one of {', '.join(EVERY)}; found '{every}'")
        t0, t1 = parse_instant(start), parse_instant(end)
        if t1 <= t0:
            raise LeadgateError(f"the end ({iso(t1)}) must be after the start ({iso(t0)})")
        first = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=round(t0 * 1_000_000))
        instants = [t0]
        k = 1
        while True:
            if every == "month":
                nxt = as_of_epoch(_add_months(first, k))
            else:
                nxt = as_of_epoch(first + (timedelta(days=k) if every == "day" else timedelta(weeks=k)))
            if nxt >= t1:
                break
            instants.append(nxt)
            k += 1
            if k > 100_000:  # pragma: no cover - a guard; days over 270 years
                raise LeadgateError("too many snapshots")
        instants.append(t1)
        return cls(tuple(instants), every)

    @property
    def start(self) -> float:
        return self.instants[0]

    @property
    def end(self) -> float:
        return self.instants[-1]

    @property
    def periods(self) -> list[Period]:
        return [Period(i, a, b) for i, (a, b) in enumerate(pairwise(self.instants), 1)]

    def period_of(self, t: float) -> int | None:
        """The 1-based period holding instant ``t``, or None when it is outside ``(start, end]``."""
        if not self.start < t <= self.end:
            return None
        lo, hi = 1, len(self.instants) - 1
        while lo < hi:  # first i with t <= instants[i]
            mid = (lo + hi) // 2
            if t <= self.instants[mid]:
                hi = mid
            else:
                lo = mid + 1
        return lo
