"""What happened to leads afterwards: the outcomes a backtest judges a definition by.

The contract is one table, one row per lead (``OUTCOME_COLUMNS``):

    lead_id      text, required, unique
    became_sql   boolean: sales accepted the lead (a sales-qualified lead)
    sql_at       timestamp (UTC) it became an SQL, when known
    opportunity  boolean: an opportunity was opened for it
    won          boolean: it became a customer (an opportunity won)
    revenue      number: revenue won (0 when none)
    closed_at    timestamp the opportunity closed, when known

Any source that can fill it is an outcome source: files (``read_outcomes``: CSV, JSON Lines or Parquet,
as ``leadgate generate`` writes ``outcomes.*``) and the store (``store_outcomes``: SQL from the stage
changes to ``sql`` and beyond, customers and revenue from won opportunities; ``store/outcomes.py``).  A
lead missing from the table has no recorded outcome (not an SQL, no revenue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from leadgate.errors import InputError, RowError
from leadgate.inputs.convert import to_boolean, to_number, to_string, to_timestamp
from leadgate.inputs.dataset import TS_TYPE
from leadgate.inputs.readers import read_raw

#: Column → (Arrow type, accepted names in a file, first is canonical).
OUTCOME_COLUMNS: dict[str, tuple[pa.DataType, tuple[str, ...]]] = {
    "lead_id": (pa.string(), ("lead_id", "id", "user_id", "userId")),
    "became_sql": (pa.bool_(), ("became_sql", "sql")),
    "sql_at": (TS_TYPE, ("sql_at",)),
    "opportunity": (pa.bool_(), ("opportunity",)),
    "won": (pa.bool_(), ("won", "customer")),
    "revenue": (pa.float64(), ("revenue", "amount")),
    "closed_at": (TS_TYPE, ("closed_at", "won_at")),
}
_CONVERT = {pa.string(): to_string, pa.bool_(): to_boolean, pa.float64(): to_number, TS_TYPE: to_timestamp}


@dataclass
class Outcomes:
    """Outcomes per lead (the contract above), where they came from, and rows that were rejected."""

    table: pa.Table
    source: str = "<table>"
    rejected: list[RowError] = field(default_factory=list)

    @classmethod
    def from_table(cls, table: pa.Table, source: str = "<table>") -> Outcomes:
        """Check and complete a table of the contract's columns (missing ones: false, 0 or unknown)."""
        rejected: list[RowError] = []
        return cls(_normalize(table, source, rejected, first_row=1, lines=None), source, rejected)

    def __len__(self) -> int:
        return int(self.table.num_rows)


def read_outcomes(path: str | Path) -> Outcomes:
    """Outcomes from a CSV, JSON Lines or Parquet file; rows that do not convert are rejected and listed."""
    path = Path(path)
    rejected: list[RowError] = []
    raw = read_raw(path, rejected)
    table = _normalize(raw.table, str(path), rejected, first_row=raw.first_line, lines=raw.line_numbers)
    return Outcomes(table, str(path), rejected)


def _normalize(
    table: pa.Table, source: str, rejected: list[RowError], *, first_row: int, lines: list[int] | None
) -> pa.Table:
    present = set(table.column_names)
    n = table.num_rows
    errors: dict[int, list[tuple[str, str]]] = {}
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name, (kind, aliases) in OUTCOME_COLUMNS.items():
        found = next((a for a in aliases if a in present), None)
        if found is None:
            if name == "lead_id":
                raise InputError(f"{source}: no 'lead_id' column; expected one named {' or '.join(aliases)}")
            default = {pa.bool_(): False, pa.float64(): 0.0}.get(kind)
            columns[name] = pa.array([default] * n, kind) if default is not None else pa.nulls(n, kind)
            continue
        converted, errs = _CONVERT[kind](table.column(found))
        for i, message in errs.items():
            errors.setdefault(i, []).append((name, message))
        if name == "lead_id":
            for i in pc.indices_nonzero(pc.is_null(converted)).to_pylist():
                errors.setdefault(i, []).append((name, "required value is missing"))
        elif kind == pa.bool_():
            converted = pc.fill_null(converted, False)
        elif kind == pa.float64():
            converted = pc.fill_null(converted, 0.0)
        columns[name] = converted
    seen: dict[str, int] = {}
    for i, lead in enumerate(columns["lead_id"].to_pylist()):
        if lead is None or i in errors:
            continue
        if lead in seen:
            errors.setdefault(i, []).append(("lead_id", f"duplicate lead_id {lead!r}"))
        else:
            seen[lead] = i
    out = pa.table(columns)
    if errors:
        for i in sorted(errors):
            row = lines[i] if lines is not None else i + first_row
            rejected.extend(RowError(source, row, column, message) for column, message in errors[i])
        out = out.filter(pa.array([i not in errors for i in range(n)]))
    return out


def store_outcomes(database: str | None = None) -> Outcomes:
    """The outcomes the store records (stage changes to SQL and beyond, won opportunities)."""
    from leadgate.store.outcomes import outcome_table
    from leadgate.store.store import Store

    store = Store(database)
    try:
        store.upgrade()
        return Outcomes.from_table(outcome_table(store), f"store {store.url}")
    finally:
        store.engine.dispose()
