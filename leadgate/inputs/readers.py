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
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadgate.errors import InputError, RowError
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.normalize import ALIASES, OPTIONAL_STRINGS, TIMESTAMPS, FieldTypes, normalize
from leadgate.inputs.segment import read_segment
from leadgate.inputs.tables import RawTable, flatten, records_table


def read_jsonl(path: Path, rejected: list[RowError]) -> RawTable:
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
            flat = flatten(record)
            if isinstance(props, dict):
                flat.update({k: v for k, v in flatten(props).items() if k not in flat})
            records.append(flat)
            lines.append(number)
    return records_table(path, records, lines)


def _needed(kind: str, field_types: FieldTypes | None) -> set[str] | None:
    """The columns scoring reads from a ``kind`` file, or None for all of them."""
    if field_types is None:
        return None
    names = {a for aliases in ALIASES[kind].values() for a in aliases}
    names |= set(OPTIONAL_STRINGS[kind]) | set(TIMESTAMPS[kind])
    names |= {column for (table, column) in field_types if table == kind}
    return names


def read_csv(path: Path, columns: set[str] | None = None) -> RawTable:
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
                column_types=dict.fromkeys(keep, pa.string()),
                include_columns=keep,
                strings_can_be_null=True,
                null_values=[""],  # only an empty field is missing: 'NA' (Namibia), 'null' or 'nan' are values
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None
    return RawTable(path, table, 2)


def read_raw(path: Path, rejected: list[RowError], columns: set[str] | None = None) -> RawTable:
    raw = _read_raw(path, rejected, columns)
    check_unique_columns(path, raw.table.column_names)
    return raw


def check_unique_columns(path: Path, names: list[str]) -> None:
    """A column named twice (``employees,employees``) would leave it unclear which one is meant."""
    first: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name in first:
            raise InputError(
                f"{path}: the column '{name}' appears twice (columns {first[name]} and {number}); "
                "expected each column once"
            )
        first[name] = number


def _read_raw(path: Path, rejected: list[RowError], columns: set[str] | None = None) -> RawTable:
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
            check_unique_columns(path, names)
            keep = names if columns is None else [n for n in names if n in columns]
            return RawTable(path, pq.read_table(path, columns=keep), 1)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path}: cannot read as Parquet: {exc}") from None
    raise InputError(f"{path}: unknown format; expected .csv, .jsonl, .ndjson or .parquet (optionally .gz)")


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

    if events_format not in (None, "auto", "segment"):
        raise InputError(f"unknown events format {events_format!r}; expected 'segment' (or none: by extension)")
    if events_format == "segment":
        if events is None:
            raise InputError("--events-format segment needs an events file of Segment messages")
        seg = read_segment(events, types, rejected)
        lead_table = read_table(leads, "leads", types, rejected, **opts) if leads else seg.leads
        account_table = read_table(accounts, "accounts", types, rejected, **opts) if accounts else seg.accounts
        predicted = read_predictions()
        return Dataset(
            leads=lead_table,
            events=seg.events,
            accounts=account_table,
            rejected=rejected,
            predictions=predicted,
            duplicate_messages=seg.duplicates,
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
