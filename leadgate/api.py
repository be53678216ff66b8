"""The library API the CLI and (later) the HTTP service stand on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from leadgate.compiler import as_of_epoch, compile_definition
from leadgate.compiler.query import TableNames
from leadgate.definition.loader import load_definition
from leadgate.definition.model import Definition
from leadgate.engines import get_engine, prepare_tables
from leadgate.errors import RowError
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.readers import read_dataset
from leadgate.result import LeadScore
from leadgate.scoretable import ScoreTable
from leadgate.summary import Summary


@dataclass
class ScoreRun:
    """One scoring run: the columnar results, the input rows that were rejected, and views on both."""

    definition: Definition
    as_of: float
    engine: str
    table: ScoreTable
    rejected: list[RowError] = field(default_factory=list)

    @cached_property
    def scores(self) -> list[LeadScore]:
        """Every lead's LeadScore (decoded on first use; prefer ``table`` for large runs)."""
        return self.table.to_scores()

    @cached_property
    def summary(self) -> Summary:
        return self.table.summary()

    def mql_ids(self) -> list[str]:
        return self.table.qualified_ids()

    def lead(self, lead_id: str) -> LeadScore | None:
        return self.table.lead(lead_id)


def _definition(definition: Definition | str | Path) -> Definition:
    return definition if isinstance(definition, Definition) else load_definition(definition)


def read_inputs(
    definition: Definition | str | Path,
    leads: str | Path | None,
    events: str | Path | None,
    accounts: str | Path | None = None,
    *,
    events_format: str | None = None,
    predictions: str | Path | None = None,
) -> Dataset:
    """Read input files, converting the fields the definition reads to the types it expects.
    ``predictions`` (lead_id, model, probability, scored_at) is read when the definition reads a model."""
    defn = _definition(definition)
    return read_dataset(
        Path(leads) if leads else None,  # type: ignore[arg-type]
        Path(events) if events else None,
        Path(accounts) if accounts else None,
        field_types=defn.field_types(),
        events_format=events_format,
        all_columns=False,
        predictions=Path(predictions) if predictions and defn.models() else None,
    )


def score(
    definition: Definition | str | Path,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    predictions: str | Path | None = None,
    data: Dataset | None = None,
    events_format: str | None = None,
    as_of: datetime | float | str | None = None,
    engine: str = "sqlite",
    engine_options: dict[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ScoreRun:
    """Score every lead as of ``as_of`` (default now) with the compiled SQL on ``engine``.

    Give either files (``leads``, ``events``, ``accounts``, and ``predictions`` for a definition with
    ``predicted`` conditions) or an already read ``data`` Dataset.
    ``on_step`` is told the stage as the run moves on (the CLI's progress bar).
    """
    defn = _definition(definition)
    t = as_of_epoch(as_of)
    with get_engine(engine, **(engine_options or {})) as eng:
        native = (
            data is None
            and leads is not None
            and eng.load_files(defn, Path(leads), _path(events), _path(accounts), _path(predictions))
        )
        if not native:
            if data is None:
                data = read_inputs(defn, leads, events, accounts, predictions=predictions)
            eng.load(prepare_tables(defn, data))
        table = eng.run(eng.score_sql(defn, t))
    rejected = list(data.rejected) if data is not None else []
    return ScoreRun(definition=defn, as_of=t, engine=engine, table=table, rejected=rejected)


def _path(p: str | Path | None) -> Path | None:
    return Path(p) if p is not None else None


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
