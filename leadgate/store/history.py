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


#: JSON value types -> the kind a trait is read as (SQLite's json_each types, PostgreSQL's jsonb_typeof).
_JSON_KINDS = {
    "integer": "number", "real": "number", "number": "number", "text": "string", "string": "string",
    "true": "boolean", "false": "boolean", "boolean": "boolean",
}  # fmt: skip
_DOCUMENTS = {"leads": ("leads", "traits"), "accounts": ("accounts", "traits"), "events": ("events", "properties")}
_NOT_TRAITS = {
    "leads": set(_CORE["leads"]) | {"created_at"},
    "accounts": {"account_id"},
    "events": {"lead_id", "event", "ts"},
}


def trait_types(store: Store) -> dict[tuple[str, str], str]:
    """Every trait of the store's leads and accounts and every event property, with the kind its values
    have ('number', 'string' or 'boolean'; 'string' when they mix kinds): what calibration reads when it
    learns from the store, since its candidate signals are all the traits, not only a definition's."""
    found: dict[tuple[str, str], set[str]] = {}
    with store.engine.connect() as conn:
        for kind, (table, column) in _DOCUMENTS.items():
            if store.dialect == "sqlite":
                query = f"SELECT DISTINCT j.key, j.type FROM {table} AS t, json_each(t.{column}) AS j"
            else:
                query = (
                    f"SELECT DISTINCT j.key, jsonb_typeof(j.value) FROM {table} AS t, jsonb_each(t.{column}) AS j "
                    f"WHERE jsonb_typeof(t.{column}) = 'object'"
                )
            for key, json_type in conn.exec_driver_sql(query):
                value_kind = _JSON_KINDS.get(json_type)
                if key is None or value_kind is None or key in _NOT_TRAITS[kind]:
                    continue
                found.setdefault((kind, str(key)), set()).add(value_kind)
        conn.rollback()
    return {key: kinds.pop() if len(kinds) == 1 else "string" for key, kinds in sorted(found.items())}
