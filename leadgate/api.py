"""The library API the CLI and (later) the HTTP service stand on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadgate.compiler import as_of_epoch, compile_definition
from leadgate.compiler.query import TableNames
from leadgate.definition.loader import load_definition
from leadgate.definition.model import Definition
from leadgate.engines import get_engine
from leadgate.errors import RowError
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.readers import read_dataset
from leadgate.result import LeadScore
from leadgate.summary import Summary, summarize


@dataclass
class ScoreRun:
    definition: Definition
    as_of: float
    engine: str
    scores: list[LeadScore]
    rejected: list[RowError] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        return summarize(self.scores)

    def lead(self, lead_id: str) -> LeadScore | None:
        return next((s for s in self.scores if s.lead_id == lead_id), None)


def _definition(definition: Definition | str | Path) -> Definition:
    return definition if isinstance(definition, Definition) else load_definition(definition)


def read_inputs(
    definition: Definition | str | Path,
    leads: str | Path | None,
    events: str | Path | None,
    accounts: str | Path | None = None,
    *,
    events_format: str | None = None,
) -> Dataset:
    """Read input files, converting the fields the definition reads to the types it expects."""
    defn = _definition(definition)
    return read_dataset(
        Path(leads) if leads else None,  # type: ignore[arg-type]
        Path(events) if events else None,
        Path(accounts) if accounts else None,
        field_types=defn.field_types(),
        events_format=events_format,
    )


def score(
    definition: Definition | str | Path,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    data: Dataset | None = None,
    as_of: datetime | float | str | None = None,
    engine: str = "duckdb",
    engine_options: dict[str, Any] | None = None,
) -> ScoreRun:
    """Score every lead as of ``as_of`` (default now) with the compiled SQL on ``engine``.

    Give either files (``leads``, ``events``, ``accounts``) or an already read ``data`` Dataset.
    """
    defn = _definition(definition)
    if data is None:
        data = read_inputs(defn, leads, events, accounts)
    t = as_of_epoch(as_of)
    with get_engine(engine, **(engine_options or {})) as eng:
        scores = eng.score(defn, data, t)
    return ScoreRun(definition=defn, as_of=t, engine=engine, scores=scores, rejected=list(data.rejected))


def compile_sql(
    definition: Definition | str | Path,
    *,
    dialect: str = "duckdb",
    as_of: datetime | float | str | None = None,
    tables: TableNames | None = None,
    pretty: bool = True,
) -> str:
    """The SQL that scores every lead as of ``as_of`` in ``dialect`` (run it in your warehouse)."""
    return compile_definition(_definition(definition), dialect=dialect, as_of=as_of, tables=tables).sql(pretty=pretty)
