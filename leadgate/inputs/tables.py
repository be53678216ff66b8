"""A file read as an Arrow table (with how to name its rows in errors), and JSON records → such a table.

Shared by the file readers (``readers.py``) and the Segment reader (``segment.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa


class RawTable:
    """A file read as an Arrow table, and how to name a row of it in an error."""

    def __init__(self, path: Path, table: pa.Table, first_line: int, line_numbers: list[int] | None = None):
        self.path = path
        self.table = table
        self.first_line = first_line
        self.line_numbers = line_numbers

    def row_label(self, index: int) -> int:
        if self.line_numbers is not None:
            return self.line_numbers[index]
        return index + self.first_line


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = json.dumps(value)
        else:
            out[name] = value
    return out


def records_table(path: Path, records: list[dict[str, Any]], lines: list[int]) -> RawTable:
    """Flat JSON records → a table: booleans, numbers (float64) and text (anything else as JSON text)."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in records]
        kinds = {type(v) for v in values if v is not None}
        if kinds and kinds <= {bool}:
            columns[name] = pa.array(values, pa.bool_())
        elif kinds and kinds <= {int, float}:
            columns[name] = pa.array([None if v is None else float(v) for v in values], pa.float64())
        else:
            columns[name] = pa.array(
                [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values], pa.string()
            )
    return RawTable(path, pa.table(columns) if columns else pa.table({}), 1, lines)
