"""Input files → a validated, normalized Dataset (docs/semantics.md, "Inputs").

Formats by extension: ``.csv``, ``.jsonl`` / ``.ndjson`` (either may be gzipped, ``.gz``) and
``.parquet``; events also as Segment JSON (``events_format="segment"``, see ``segment.py``).  Model
predictions (``lead_id, model, probability, scored_at``) are an optional fourth input.  Fields a
definition reads are converted to the type it expects; a row whose value does not convert, or that lacks
a required field, is left out and reported in ``Dataset.rejected`` with file, row and field.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadgate.errors import InputError, RowError
from leadgate.inputs.convert import CONVERTERS, Errors, to_number, to_string, to_timestamp
from leadgate.inputs.dataset import Dataset

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


class _Raw:
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


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = json.dumps(value)
        else:
            out[name] = value
    return out


def read_jsonl(path: Path, rejected: list[RowError]) -> _Raw:
    opener = gzip.open if path.name.endswith(".gz") else open
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                rejected.append(RowError(str(path), number, None, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(record, dict):
                rejected.append(RowError(str(path), number, None, "expected a JSON object"))
                continue
            props = record.pop("properties", None)
            flat = _flatten(record)
            if isinstance(props, dict):
                flat.update({k: v for k, v in _flatten(props).items() if k not in flat})
            records.append(flat)
            lines.append(number)
    return records_table(path, records, lines)


def records_table(path: Path, records: list[dict[str, Any]], lines: list[int]) -> _Raw:
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
    return _Raw(path, pa.table(columns) if columns else pa.table({}), 1, lines)


def _needed(kind: str, field_types: FieldTypes | None) -> set[str] | None:
    """The columns scoring reads from a ``kind`` file, or None for all of them."""
    if field_types is None:
        return None
    names = {a for aliases in ALIASES[kind].values() for a in aliases}
    names |= set(OPTIONAL_STRINGS[kind]) | set(TIMESTAMPS[kind])
    names |= {column for (table, column) in field_types if table == kind}
    return names


def read_csv(path: Path, columns: set[str] | None = None) -> _Raw:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:  # type: ignore[operator]
        header = next(csv.reader(io.StringIO(f.readline())), None)
    if not header:
        raise InputError(f"{path}: empty file; expected a header row naming the columns")
    keep = [h for h in header if columns is None or h in columns]
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(keep, pa.string()), include_columns=keep, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None
    return _Raw(path, table, 2)


def read_raw(path: Path, rejected: list[RowError], columns: set[str] | None = None) -> _Raw:
    name = path.name.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if name.endswith((".csv", ".csv.gz")):
        return read_csv(path, columns)
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".json")):
        return read_jsonl(path, rejected)
    if name.endswith(".parquet"):
        try:
            names = pq.read_schema(path).names
            keep = names if columns is None else [n for n in names if n in columns]
            return _Raw(path, pq.read_table(path, columns=keep), 1)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path}: cannot read as Parquet: {exc}") from None
    raise InputError(f"{path}: unknown format; expected .csv, .jsonl, .ndjson or .parquet (optionally .gz)")


def normalize(raw: _Raw, kind: str, field_types: FieldTypes, rejected: list[RowError]) -> pa.Table:
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


def read_table(
    path: Path,
    kind: str,
    field_types: FieldTypes | None = None,
    rejected: list[RowError] | None = None,
    *,
    all_columns: bool = True,
) -> pa.Table:
    """One file as a normalized table; with ``all_columns=False`` only what ``field_types`` reads."""
    rejected = rejected if rejected is not None else []
    columns = None if all_columns else _needed(kind, field_types)
    return normalize(read_raw(path, rejected, columns), kind, field_types or {}, rejected)


def read_dataset(
    leads: Path | None,
    events: Path | None,
    accounts: Path | None = None,
    *,
    field_types: FieldTypes | None = None,
    events_format: str | None = None,
    all_columns: bool = True,
    predictions: Path | None = None,
) -> Dataset:
    """Read leads, events, accounts and (optional) predictions files into a Dataset; bad rows go to
    ``Dataset.rejected``.

    With ``all_columns=False`` only the columns ``field_types`` reads are loaded (and validated)."""
    opts = {"all_columns": all_columns}
    types = field_types or {}
    rejected: list[RowError] = []

    def read_predictions() -> pa.Table | None:
        return read_table(predictions, "predictions", types, rejected, **opts) if predictions else None

    if events_format == "segment":
        from leadgate.inputs.segment import read_segment

        if events is None:
            raise InputError("--events-format segment needs an events file of Segment messages")
        seg = read_segment(events, types, rejected)
        lead_table = read_table(leads, "leads", types, rejected, **opts) if leads else seg.leads
        account_table = read_table(accounts, "accounts", types, rejected, **opts) if accounts else seg.accounts
        predicted = read_predictions()
        return Dataset(
            leads=lead_table, events=seg.events, accounts=account_table, rejected=rejected, predictions=predicted
        )
    if leads is None:
        raise InputError("a leads file is required")
    lead_table = read_table(leads, "leads", types, rejected, **opts)
    if events is not None:
        event_table = read_table(events, "events", types, rejected, **opts)
    else:
        event_table = pa.table(
            {
                "lead_id": pa.array([], pa.string()),
                "event": pa.array([], pa.string()),
                "ts": pa.array([], pa.timestamp("us")),
            }
        )
    account_table = read_table(accounts, "accounts", types, rejected, **opts) if accounts else None
    return Dataset(
        leads=lead_table, events=event_table, accounts=account_table, rejected=rejected, predictions=read_predictions()
    )
