"""Writing scores: JSON Lines (one LeadScore with its breakdown per line), CSV or Parquet (one flat row per
lead: scores, decision, reasons, and points per rule), chosen by the file's extension.  Every row names the
definition and version that scored it (``definition``, ``definition_version``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadgate.errors import LeadgateError
from leadgate.scoretable import ScoreTable


def flat_table(scores: ScoreTable) -> pa.Table:
    """The columnar output with decisions spelled out: qualified as a boolean, reasons as text lists."""
    t = scores.table
    layout = scores.query.layout
    qualified = pc.equal(pc.cast(t.column("qualified"), pa.int64()), 1)

    def joined(pairs: list[tuple[str, str]]) -> pa.Array:
        names = [name for name, _ in pairs]
        flags = [pc.cast(t.column(col), pa.int64()).to_pylist() for _, col in pairs]
        return pa.array(
            [";".join(n for n, f in zip(names, row, strict=True) if f == 1) for row in zip(*flags, strict=True)]
            if pairs
            else [""] * t.num_rows,
            pa.string(),
        )

    defn = scores.query.definition
    columns = {
        "definition": pa.array([defn.name] * t.num_rows, pa.string()),
        "definition_version": pa.array([defn.version_str] * t.num_rows, pa.string()),
        "lead_id": t.column("lead_id"),
        "fit": pc.cast(t.column("fit"), pa.float64()),
        "engagement": pc.cast(t.column("engagement"), pa.float64()),
        "total": pc.cast(t.column("total"), pa.float64()),
        "qualified": qualified,
        "grade": t.column("grade"),
        "level": pc.cast(t.column("level"), pa.int64()),
        "qualified_by": joined(layout.paths),
        "disqualify_reasons": joined(layout.disqualify),
        "failed_requirements": joined(layout.require),
        "basis": pc.if_else(qualified, t.column("basis"), pa.scalar(None, pa.string())),
        "motion": pc.if_else(qualified, t.column("motion"), pa.scalar(None, pa.string())),
    }
    for rule_id, _count, points in layout.rules:
        columns[f"points:{rule_id}"] = pc.cast(t.column(points), pa.float64())
    for name, column in layout.groups:
        columns[f"points:group:{name}"] = pc.cast(t.column(column), pa.float64())
    if layout.account:
        columns["account_id"] = pc.cast(t.column("account_id"), pa.string())
        columns["account_engagement"] = pc.cast(t.column("account_engagement"), pa.float64())
        columns["account_engaged_leads"] = pc.cast(t.column("account_engaged_leads"), pa.int64())
        columns["account_qualified"] = pc.equal(pc.cast(t.column("account_qualified"), pa.int64()), 1)
    for model, column in layout.predicted:
        columns[f"predicted:{model}"] = pc.cast(t.column(column), pa.float64())
    return pa.table(columns)


def write_scores(scores: ScoreTable, path: Path) -> None:
    name = path.name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith((".jsonl", ".ndjson")):
        with path.open("w") as f:
            defn = scores.query.definition
            scored_by = {"definition": defn.name, "definition_version": defn.version_str}
            for s in scores:
                f.write(json.dumps({**scored_by, **s.to_dict()}) + "\n")
    elif name.endswith(".csv"):
        pacsv.write_csv(flat_table(scores), path)
    elif name.endswith(".parquet"):
        pq.write_table(flat_table(scores), path)
    else:
        raise LeadgateError(f"{path}: unknown output format; expected .jsonl, .csv or .parquet")
