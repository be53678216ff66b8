"""Features from the project's own machinery: the candidates become one *candidate definition*, loaded
through the definition loader and scored point in time by its compiled SQL on DuckDB; each candidate's
feature is its contribution (every candidate is worth one point).  So a feature means exactly what the
rule will mean in a proposed definition, windows, missing values and all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from leadgate.calibrate.candidates import Candidate
from leadgate.compiler import Layout
from leadgate.definition.loader import parse_definition
from leadgate.definition.model import Definition
from leadgate.engines import get_engine
from leadgate.inputs.convert import CONVERTERS, NUMBER
from leadgate.inputs.dataset import Dataset

Kinds = dict[tuple[str, str], str]
#: Columns that are not traits or properties.
NOT_FEATURES = {
    "leads": frozenset({"lead_id", "email", "account_id", "created_at"}),
    "accounts": frozenset({"account_id"}),
    "events": frozenset({"lead_id", "event", "ts", "message_id"}),
}
#: Text that reads as a boolean column when every value is one of these (any case).
BOOLEAN_TEXT = pa.array(["true", "false"])
#: A score threshold no lead reaches: candidate definitions qualify by their named paths only.
NEVER = 1e15
#: Rules of one kind per compiled query.  The compiler sums a kind's rules as one nested expression, and
#: sqlglot writes nested expressions recursively: past about 200 rules of a kind it exceeds Python's
#: recursion limit.  Candidates are scored in chunks (contributions are independent, so this is exact),
#: and a proposal keeps at most this many rules of each kind.
MAX_RULES_PER_KIND = 100


def infer_kinds(data: Dataset, fixed: Mapping[tuple[str, str], str | None] | None = None) -> Kinds:
    """(table, column) -> 'number', 'string' or 'boolean' for every trait and property column.

    Text columns whose every value reads as a number are numbers; as true / false, booleans.  ``fixed`` (the
    current definition's field types) wins where it names a kind, so candidates and the current rules agree."""
    kinds: Kinds = {}
    for table_name in ("leads", "accounts", "events"):
        table = getattr(data, table_name)
        if table is None:
            continue
        for f in table.schema:
            if f.name in NOT_FEATURES[table_name]:
                continue
            kind = _kind(table.column(f.name))
            if kind is not None:
                kinds[(table_name, f.name)] = kind
    for key, kind in (fixed or {}).items():
        if kind is not None:
            kinds[key] = kind
    return kinds


def _kind(column: pa.ChunkedArray) -> str | None:
    t = column.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pc.cast(column, pa.string())
        present = pc.drop_null(text)
        if len(present) and pc.all(pc.match_substring_regex(present, NUMBER)).as_py():
            return "number"
        if len(present) and pc.all(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(present)), BOOLEAN_TEXT)).as_py():
            return "boolean"
        return "string"
    return None


def typed(data: Dataset, kinds: Kinds) -> Dataset:
    """The dataset with every trait and property column converted to its kind (values that do not convert,
    possible only where the current definition fixed a kind, become missing and are counted in
    ``rejected`` by the reader that read them with that kind)."""
    tables: dict[str, pa.Table | None] = {}
    for table_name in ("leads", "accounts", "events"):
        table = getattr(data, table_name)
        if table is None:
            tables[table_name] = None
            continue
        for i, f in enumerate(table.schema):
            kind = kinds.get((table_name, f.name))
            if kind is None:
                continue
            column = table.column(i)
            if pa.types.is_dictionary(column.type):
                column = pc.cast(column, column.type.value_type)
            converted, _errors = CONVERTERS[kind](column)
            table = table.set_column(i, f.name, converted)
        tables[table_name] = table
    return replace(data, leads=tables["leads"], events=tables["events"], accounts=tables["accounts"])


def rule_data(c: Candidate, points: float = 1.0, description: str | None = None) -> dict[str, Any]:
    """The YAML data of a candidate as a rule worth ``points``."""
    out: dict[str, Any] = {"id": c.id}
    if description:
        out["description"] = description
    out.update(c.rule)
    out["points"] = points
    return out


def candidate_document(candidates: Sequence[Candidate], carried: Mapping[str, Any]) -> dict[str, Any]:
    """A definition (YAML data) holding every candidate at one point, plus the carried-over hard rules and
    paths (their flags come out of the same run)."""
    doc: dict[str, Any] = {"schema": 1, "name": "calibration_candidates", "version": 1}
    for key in ("lists", "decay"):
        if key in carried:
            doc[key] = carried[key]
    doc["fit"] = [rule_data(c) for c in candidates if c.kind == "fit"]
    doc["engagement"] = [rule_data(c) for c in candidates if c.kind == "engagement"]
    for key in ("require", "disqualify"):
        if key in carried:
            doc[key] = carried[key]
    doc["qualify"] = {"threshold": NEVER, **({"paths": carried["paths"]} if "paths" in carried else {})}
    return doc


def dump(doc: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=1_000_000)


def load(doc: Mapping[str, Any], base_dir: Path | None = None, name: str = "<calibration>") -> Definition:
    """Validate YAML data through the definition loader (the same path a file takes)."""
    return parse_definition(dump(doc), filename=name, base_dir=base_dir)


@dataclass
class Scored:
    """One scoring run of a definition, aligned to a list of lead ids (rows missing from the run, leads
    created after the instant, are absent from ``present``)."""

    table: pa.Table
    layout: Layout
    present: np.ndarray  # bool per requested lead
    rows: np.ndarray  # row of the run for each requested lead (-1 when absent)

    def column(self, name: str, default: float = 0.0) -> np.ndarray:
        values = np.asarray(pc.cast(self.table.column(name), pa.float64()).to_numpy(zero_copy_only=False))
        out = np.full(self.rows.size, default, dtype=float)
        out[self.present] = values[self.rows[self.present]]
        return np.nan_to_num(out, nan=default)

    def flags(self, names: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.rows.size, dtype=bool)
        for name in names:
            out |= self.column(name) == 1
        return out

    def points(self, ids: Sequence[str]) -> np.ndarray:
        """One column per rule id: its contribution (points)."""
        if not ids:
            return np.zeros((self.rows.size, 0))
        return np.column_stack([self.column(f"points__{i}") for i in ids])

    @property
    def total(self) -> np.ndarray:
        return self.column("total")

    @property
    def qualified(self) -> np.ndarray:
        return self.flags(["qualified"])

    @property
    def blocked(self) -> np.ndarray:
        """A disqualifier holds or a requirement fails."""
        return self.flags([c for _, c in self.layout.disqualify] + [c for _, c in self.layout.require])

    @property
    def by_path(self) -> np.ndarray:
        """A named path (not the score path) holds."""
        return self.flags([c for name, c in self.layout.paths if name != "score"])


def chunks(candidates: Sequence[Candidate], size: int = MAX_RULES_PER_KIND) -> list[list[Candidate]]:
    """The candidates in groups of at most ``size`` fit and ``size`` engagement rules, in their order."""
    fit = [c for c in candidates if c.kind == "fit"]
    engagement = [c for c in candidates if c.kind == "engagement"]
    n = max(1, -(-len(fit) // size), -(-len(engagement) // size))
    return [fit[k * size : (k + 1) * size] + engagement[k * size : (k + 1) * size] for k in range(n)]


def candidate_features(
    candidates: Sequence[Candidate],
    carried: Mapping[str, Any],
    data: Dataset,
    as_of: float,
    lead_ids: Sequence[str],
    base_dir: Path | None = None,
    threads: int = 2,
) -> tuple[np.ndarray, Scored]:
    """Every candidate's feature (its contribution at one point) per lead, and the first chunk's run, which
    also carries the hard rules' and named paths' flags."""
    columns: dict[str, np.ndarray] = {}
    first: Scored | None = None
    for k, chunk in enumerate(chunks(candidates)):
        defn = load(candidate_document(chunk, carried if k == 0 else {}), base_dir)
        scored = score(defn, data, as_of, lead_ids, threads)
        first = first or scored
        for c in chunk:
            columns[c.id] = scored.column(f"points__{c.id}")
    assert first is not None
    matrix = np.column_stack([columns[c.id] for c in candidates]) if candidates else np.zeros((len(lead_ids), 0))
    return matrix, first


def score(defn: Definition, data: Dataset, as_of: float, lead_ids: Sequence[str], threads: int = 2) -> Scored:
    """Score ``defn`` as of ``as_of`` with its compiled SQL on DuckDB, aligned to ``lead_ids``."""
    with get_engine("duckdb", threads=threads) as engine:
        result = engine.score(defn, data, as_of)
    table = result.table
    position = {lead: i for i, lead in enumerate(table.column("lead_id").to_pylist())}
    rows = np.array([position.get(lead, -1) for lead in lead_ids], dtype=np.int64)
    return Scored(table=table, layout=result.query.layout, present=rows >= 0, rows=rows)
