"""The store's history as a Dataset: what a backtest replays when it reads from the live store.

The same typed views scoring uses (``views.py``) present the leads (merged ones left out), accounts,
events (bot traffic left out) and model predictions with the fields a definition reads; this reads them
whole into Arrow, so any engine can replay them at any instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from leadgate.inputs.dataset import TS_TYPE, Dataset
from leadgate.store.store import Store, to_micros
from leadgate.store.views import VIEW_NAMES, view_statements

_KINDS = {"number": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}
_CORE = {
    "leads": {"lead_id": pa.string(), "email": pa.string(), "email_domain": pa.string(), "account_id": pa.string()},
    "accounts": {"account_id": pa.string()},
    "events": {"lead_id": pa.string(), "event": pa.string()},
    "predictions": {"lead_id": pa.string(), "model": pa.string(), "probability": pa.float64()},
}
_TIMES = {"leads": ("created_at",), "accounts": (), "events": ("ts",), "predictions": ("scored_at",)}


def _micros(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):  # SQLite: REAL epoch seconds holding whole microseconds
        return round(value * 1_000_000)
    return to_micros(value)


def _column(values: list[Any], kind: pa.DataType) -> pa.Array:
    if kind == TS_TYPE:
        return pa.array([_micros(v) for v in values], pa.int64()).cast(TS_TYPE)
    if kind == pa.bool_():
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    if kind == pa.float64():
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def read_history(store: Store, field_types: Mapping[tuple[str, str], str | None]) -> Dataset:
    """Leads, accounts and events of the store with the fields ``field_types`` names, typed."""
    tables: dict[str, pa.Table] = {}
    with store.engine.connect() as conn:
        for statement in view_statements(store.dialect, field_types):
            conn.exec_driver_sql(statement)
        for kind, view in VIEW_NAMES.items():
            result = conn.exec_driver_sql(f'SELECT * FROM "{view}"')
            names = list(result.keys())
            rows = result.fetchall()
            wanted = {column: k for (table, column), k in field_types.items() if table == kind}
            columns = {}
            for j, name in enumerate(names):
                if name in _TIMES[kind]:
                    kind_type = TS_TYPE
                elif name in _CORE[kind]:
                    kind_type = _CORE[kind][name]
                else:
                    kind_type = _KINDS.get(wanted.get(name) or "string", pa.string())
                columns[name] = _column([r[j] for r in rows], kind_type)
            tables[kind] = pa.table(columns)
        conn.rollback()
    return Dataset(
        leads=tables["leads"], events=tables["events"], accounts=tables["accounts"], predictions=tables["predictions"]
    )
