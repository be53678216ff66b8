"""The library API the CLI and (later) the HTTP service stand on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from leadgate.compiler import as_of_epoch, compile_definition
from leadgate.compiler.checks import events_without_lead_sql
from leadgate.compiler.query import TableNames, compile_rule_totals
from leadgate.definition.loader import load_definition
from leadgate.definition.model import Definition
from leadgate.engines import Engine, get_engine, prepare_tables
from leadgate.errors import RowError
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.readers import read_dataset
from leadgate.result import LeadScore
from leadgate.scoretable import ScoreTable
from leadgate.summary import Summary


@dataclass
class ScoreRun:
    """One scoring run: the columnar results, the input rows that were rejected, and views on both.

    ``events_without_lead`` counts the events whose lead_id names no lead (never scored), and
    ``unknown_lead_ids`` gives a few of those ids; ``duplicate_messages`` counts the Segment messages
    skipped because one with the same messageId was read before."""

    definition: Definition
    as_of: float
    engine: str
    table: ScoreTable
    rejected: list[RowError] = field(default_factory=list)
    events_without_lead: int = 0
    unknown_lead_ids: list[str] = field(default_factory=list)
    duplicate_messages: int = 0

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
    check_events: bool = True,
) -> ScoreRun:
    """Score every lead as of ``as_of`` (default now) with the compiled SQL on ``engine``.

    Give either files (``leads``, ``events``, ``accounts``, and ``predictions`` for a definition with
    ``predicted`` conditions) or an already read ``data`` Dataset.  With ``events_format="segment"`` the
    events file holds Segment messages, and the leads file may be left out (identify messages name them).
    ``on_step`` is told each stage as the run moves on (the CLI's progress bar): ``reading inputs`` (not
    when ``data`` is given), ``loading into ENGINE``, ``compiling``, ``scoring on ENGINE``.
    ``check_events`` looks for events whose lead_id names no lead (``ScoreRun.events_without_lead``): a
    scan comparing what each rule counts over all events with the leads' counts, and only when they differ
    a search for such events (docs/semantics.md, "Inputs").
    """
    step = on_step or _quiet
    defn = _definition(definition)
    t = as_of_epoch(as_of)
    segment = events_format == "segment"
    with get_engine(engine, **(engine_options or {})) as eng:
        if data is None:
            step("reading inputs")
        native = (
            data is None
            and not segment
            and leads is not None
            and eng.load_files(defn, Path(leads), _path(events), _path(accounts), _path(predictions))
        )
        if not native:
            if data is None:
                data = read_inputs(defn, leads, events, accounts, events_format=events_format, predictions=predictions)
            step(f"loading into {engine}")
            eng.load(prepare_tables(defn, data))
        else:
            step(f"loading into {engine}")  # done by load_files: the engine reads the files in place
        step("compiling")
        query = eng.score_sql(defn, t)
        step(f"scoring on {engine}")
        table = eng.run(query)
        orphans, examples = _events_without_lead(eng, defn, t, table) if check_events else (0, [])
    return ScoreRun(
        definition=defn,
        as_of=t,
        engine=engine,
        table=table,
        rejected=list(data.rejected) if data is not None else [],
        events_without_lead=orphans,
        unknown_lead_ids=examples,
        duplicate_messages=data.duplicate_messages if data is not None else 0,
    )


def _quiet(_step: str) -> None:
    pass


def _events_without_lead(eng: Engine, defn: Definition, t: float, table: ScoreTable) -> tuple[int, list[str]]:
    """How many loaded events name no loaded lead, and a few of those lead ids.  First the cheap test: the
    events each rule counts over the whole table equal the sum of the leads' counts unless a counted event
    names no lead (or a lead created after T); only then are such events looked for outright."""
    if _rule_totals_agree(eng, defn, t, table):
        return 0, []
    rows = eng.fetch(events_without_lead_sql(eng.dialect))
    if not rows:
        return 0, []
    return int(rows[0]["events"]), [str(r["lead_id"]) for r in rows]


def _rule_totals_agree(eng: Engine, defn: Definition, t: float, table: ScoreTable) -> bool:
    if not defn.engagement:
        return False
    totals = eng.fetch(compile_rule_totals(defn, dialect=eng.dialect, as_of=t).sql())[0]
    counts = {rule_id: column for rule_id, column, _ in table.query.layout.rules}
    for i, rule in enumerate(defn.engagement):
        scored = pc.sum(table.table[counts[rule.id]]).as_py() or 0
        if round(float(totals[f"r{i}"] or 0)) != round(float(scored)):
            return False
    return True


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
