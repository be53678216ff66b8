"""Turn per-slice results into the rows of a report: every week of the window present (empty weeks as
zeros), definition versions labelled ``name vVERSION``, a stable order, and keys in column order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from leadgate.reports import sql
from leadgate.reports.model import NONE, Column, Window


def weeks(window: Window) -> list[str]:
    """The Mondays (``YYYY-MM-DD``) of every ISO week the window touches up to its cut."""
    first = _monday(window.start)
    last = _monday(window.cut - timedelta(microseconds=1))
    out = []
    while first <= last:
        out.append(first.date().isoformat())
        first += timedelta(days=7)
    return out


def _monday(when: datetime) -> datetime:
    day = datetime(when.year, when.month, when.day)
    return day - timedelta(days=day.weekday())


def order_key(by: str | None, key: str) -> tuple[int, Any]:
    """Weeks in order, definition versions by id, other values alphabetically; ``(none)`` last."""
    if key == NONE:
        return (1, "")
    if by == "definition_version" and key.isdigit():
        return (0, int(key))
    return (0, key)


def arrange(
    conn: Connection,
    by: str | None,
    window: Window,
    rows: dict[str, dict[str, Any]],
    columns: Iterable[Column],
    blank: Callable[[], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The report's rows in order, each ``{"slice": label, <columns>...}``.  ``blank`` makes an empty row
    (a week with nothing in it)."""
    if by == "week":
        for monday in weeks(window):
            rows.setdefault(monday, blank())
    names = {}
    if by == "definition_version":
        names = sql.definition_labels(conn, rows)
    out = []
    for key in sorted(rows, key=lambda k: order_key(by, k)):
        row = rows[key]
        out.append(ordered({"slice": names.get(key, key), **row}, columns))
    return out


def ordered(row: dict[str, Any], columns: Iterable[Column]) -> dict[str, Any]:
    """The row's values in column order (JSON readers see them as documented)."""
    return {c.name: row.get(c.name) for c in columns}
