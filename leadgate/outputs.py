"""Writing scores: JSON Lines, CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadgate.errors import LeadgateError
from leadgate.result import LeadScore

FLAT_COLUMNS = [
    "lead_id",
    "fit",
    "engagement",
    "total",
    "qualified",
    "grade",
    "level",
    "matrix",
    "mql_types",
    "qualified_by",
    "disqualify_reasons",
    "failed_requirements",
]


def _flat(score: LeadScore) -> dict[str, object]:
    d = score.to_dict()
    row = {k: d[k] for k in FLAT_COLUMNS}
    for key in ("mql_types", "qualified_by", "disqualify_reasons", "failed_requirements"):
        row[key] = ";".join(d[key])
    for rule, c in score.contributions.items():
        row[f"points:{rule}"] = c.points
    return row


def write_scores(scores: list[LeadScore], path: Path) -> None:
    name = path.name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith((".jsonl", ".ndjson")):
        with path.open("w") as f:
            for s in scores:
                f.write(json.dumps(s.to_dict()) + "\n")
    elif name.endswith(".csv"):
        rows = [_flat(s) for s in scores]
        fields = list(rows[0]) if rows else FLAT_COLUMNS
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    elif name.endswith(".parquet"):
        rows = [_flat(s) for s in scores]
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        raise LeadgateError(f"{path}: unknown output format; expected .jsonl, .csv or .parquet")
