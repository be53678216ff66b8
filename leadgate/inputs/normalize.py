"""The input tables' contract: required columns (and their accepted names), conversions, and the rows
that fail them (docs/semantics.md, "Inputs").  ``normalize`` turns any raw table into a normalized one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadgate.errors import InputError, RowError
from leadgate.inputs.convert import CONVERTERS, Errors, to_number, to_string, to_timestamp
from leadgate.inputs.tables import RawTable

FieldTypes = Mapping[tuple[str, str], str | None]

#: Accepted names of the required columns, first is canonical.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {"lead_id": ("lead_id", "id", "user_id", "userId")},
    "accounts": {"account_id": ("account_id", "id", "group_id", "groupId")},
    "events": {
        "lead_id": ("lead_id", "user_id", "userId"),
        "event": ("event", "event_name", "name"),
        "ts": ("ts", "timestamp", "time", "occurred_at"),
    },
    "predictions": {
        "lead_id": ("lead_id", "user_id", "userId"),
        "model": ("model", "model_name"),
        "probability": ("probability", "prediction"),
        "scored_at": ("scored_at", "timestamp", "ts"),
    },
}
OPTIONAL_STRINGS: dict[str, tuple[str, ...]] = {
    "leads": ("email", "account_id"),
    "accounts": (),
    "events": ("message_id",),
    "predictions": (),
}
TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at",),
    "accounts": (),
    "events": ("ts",),
    "predictions": ("scored_at",),
}
#: Required numbers and their inclusive bounds.
BOUNDED: dict[str, dict[str, tuple[float, float]]] = {"predictions": {"probability": (0.0, 1.0)}}


def normalize(raw: RawTable, kind: str, field_types: FieldTypes, rejected: list[RowError]) -> pa.Table:
    """Rename required columns, convert fields, drop and report the rows that fail."""
    table = raw.table
    columns: dict[str, pa.ChunkedArray] = {}
    errors: dict[int, list[tuple[str, str]]] = {}

    def note(field: str, errs: Errors) -> None:
        for i, message in errs.items():
            errors.setdefault(i, []).append((field, message))

    present = set(table.column_names)
    for canonical, aliases in ALIASES[kind].items():
        source = next((a for a in aliases if a in present), None)
        if source is None:
            raise InputError(f"{raw.path}: no '{canonical}' column; expected one named {' or '.join(aliases)}")
        present.discard(source)
        bounds = BOUNDED.get(kind, {}).get(canonical)
        if bounds is not None:
            converted, errs = _bounded(table.column(source), *bounds)
        else:
            converted, errs = (to_timestamp if canonical in TIMESTAMPS[kind] else to_string)(table.column(source))
        note(canonical, errs)
        missing = pc.indices_nonzero(pc.is_null(converted)).to_pylist()
        note(canonical, {i: "required value is missing" for i in missing if i not in errs})
        columns[canonical] = converted
    wanted = {column: k for (table_name, column), k in field_types.items() if table_name == kind}
    for name in table.column_names:
        if name not in present or name in columns:
            continue
        column = table.column(name)
        if name in TIMESTAMPS[kind]:
            converted, errs = to_timestamp(column)
        elif name in OPTIONAL_STRINGS[kind]:
            converted, errs = to_string(column)
        elif wanted.get(name) in CONVERTERS:
            converted, errs = CONVERTERS[wanted[name]](column)  # type: ignore[index]
        else:
            converted, errs = column, {}
        note(name, errs)
        columns[name] = converted
    if kind == "leads" and "email" in columns:
        columns["email_domain"] = email_domain(columns["email"])
    out = pa.table(columns)
    seen_key = next(iter(ALIASES[kind]))
    keys_col = out.column(seen_key) if out.num_rows else None
    distinct = pc.count_distinct(keys_col).as_py() if keys_col is not None else 0
    has_dupes = keys_col is not None and distinct != len(keys_col) - keys_col.null_count
    if kind in ("leads", "accounts") and has_dupes and keys_col is not None:
        keys = keys_col.to_pylist()
        first: dict[Any, int] = {}
        for i, key in enumerate(keys):
            if key is None or i in errors:
                continue
            if key in first:
                errors.setdefault(i, []).append(
                    (seen_key, f"duplicate {seen_key} {key!r} (first at row {raw.row_label(first[key])})")
                )
            else:
                first[key] = i
    if errors:
        for i in sorted(errors):
            for field, message in errors[i]:
                rejected.append(RowError(str(raw.path), raw.row_label(i), field, message))
        keep = pa.array([i not in errors for i in range(out.num_rows)])
        out = out.filter(keep)
    return out


def _bounded(column: pa.ChunkedArray, low: float, high: float) -> tuple[pa.ChunkedArray, Errors]:
    """A number within [low, high]; a value outside (or NaN) is an error and reads as missing."""
    converted, errs = to_number(column)
    inside = pc.and_(pc.greater_equal(converted, low), pc.less_equal(converted, high))
    outside = pc.indices_nonzero(pc.fill_null(pc.invert(inside), False)).to_pylist()
    for i in outside:
        errs.setdefault(i, f"expected a number from {low:g} to {high:g}, found {converted[i].as_py()!r}")
    if outside:
        converted = pc.if_else(pc.fill_null(inside, True), converted, pa.scalar(None, pa.float64()))
    return converted, errs


def email_domain(email: pa.ChunkedArray) -> pa.ChunkedArray:
    """Lower-cased part after the '@' when the address has exactly one '@'; otherwise NULL."""
    parts = pc.extract_regex(email, r"^[^@]*@(?P<domain>[^@]+)$")
    domain = pc.struct_field(parts, "domain")
    return pc.utf8_lower(domain)
