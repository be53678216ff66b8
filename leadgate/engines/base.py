"""What every engine shares: shaping a Dataset into the tables a compiled query reads, and turning result
rows back into LeadScores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadgate.compiler import CompiledQuery, compile_definition
from leadgate.definition.model import Definition
from leadgate.errors import EngineError
from leadgate.inputs.dataset import TS_TYPE, Dataset
from leadgate.scoretable import ScoreTable

KIND_TYPES = {"number": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}
CORE = {
    "leads": {
        "lead_id": pa.string(),
        "email": pa.string(),
        "email_domain": pa.string(),
        "account_id": pa.string(),
        "created_at": TS_TYPE,
    },
    "accounts": {"account_id": pa.string()},
    "events": {"lead_id": pa.string(), "event": pa.string(), "ts": TS_TYPE},
    "predictions": {"lead_id": pa.string(), "model": pa.string(), "probability": pa.float64(), "scored_at": TS_TYPE},
}


def quote_ident(name: str, quote: str = '"') -> str:
    """A quoted SQL identifier for DDL the engines write themselves (names come from data files)."""
    return quote + name.replace(quote, quote + quote) + quote


@dataclass
class Tables:
    """The input tables, reduced to the columns a definition reads, with the types it expects.
    ``predictions`` is there only for a definition that reads model predictions."""

    leads: pa.Table
    accounts: pa.Table
    events: pa.Table
    predictions: pa.Table | None = None

    def items(self) -> list[tuple[str, pa.Table]]:
        tables = [("leads", self.leads), ("accounts", self.accounts), ("events", self.events)]
        return tables + ([("predictions", self.predictions)] if self.predictions is not None else [])


def _shape(table: pa.Table | None, core: Mapping[str, pa.DataType], extra: Mapping[str, str | None]) -> pa.Table:
    n = 0 if table is None else table.num_rows
    names = list(core) + [c for c in extra if c not in core]
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for name in names:
        want = core.get(name) or KIND_TYPES.get(extra.get(name) or "")
        if table is not None and name in table.column_names:
            column = table.column(name)
            if want is None:
                want = column.type if column.type in KIND_TYPES.values() else pa.string()
            if column.type != want:
                column = pc.cast(column, want) if not pa.types.is_null(column.type) else pa.nulls(n, want)
            arrays.append(column)
        else:
            arrays.append(pa.nulls(n, want or pa.string()))
    return pa.table(arrays, names=names)


def prepare_tables(defn: Definition, data: Dataset) -> Tables:
    wanted: dict[str, dict[str, str | None]] = {"leads": {}, "accounts": {}, "events": {}}
    for (table, column), kind in defn.field_types().items():
        wanted[table][column] = kind
    return Tables(
        leads=_shape(data.leads, CORE["leads"], wanted["leads"]),
        accounts=_shape(data.accounts, CORE["accounts"], wanted["accounts"]),
        events=_shape(data.events, CORE["events"], wanted["events"]),
        predictions=_shape(data.predictions, CORE["predictions"], {}) if defn.models() else None,
    )


class Engine(ABC):
    """Runs compiled SQL.  Subclasses load tables and execute; the compiler never touches a connection."""

    dialect: str
    #: The driver's errors that mean the SQL failed to run (reported as an EngineError, not a traceback).
    errors: tuple[type[BaseException], ...] = ()

    def load(self, tables: Tables) -> None:
        """Replace the engine's leads / accounts / events tables."""
        for name, table in tables.items():
            self.load_table(name, table)

    @abstractmethod
    def load_table(self, name: str, table: pa.Table) -> None:
        """Create (or replace) one table from Arrow, e.g. the instants a multi-instant query joins."""

    @abstractmethod
    def fetch(self, sql: str) -> list[dict[str, Any]]:
        """Run one query and return its rows as dicts."""

    def load_files(
        self,
        defn: Definition,
        leads: Path,
        events: Path | None,
        accounts: Path | None,
        predictions: Path | None = None,
    ) -> bool:
        """Load input files natively, skipping the Arrow reader; engines that can override this.  Returns
        False (having loaded nothing) when the files need the converting, row-reporting reader."""
        return False

    def fetch_arrow(self, sql: str) -> pa.Table:
        """Run one query and return its rows as an Arrow table (engines override with a native path)."""
        rows = self.fetch(sql)
        return pa.Table.from_pylist(rows) if rows else pa.table({})

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and temporary tables."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def score_sql(self, defn: Definition, as_of: datetime | float | None = None) -> CompiledQuery:
        """The query ``score`` would run (the dry-run twin)."""
        return compile_definition(defn, dialect=self.dialect, as_of=as_of)

    def score(self, defn: Definition, data: Dataset, as_of: datetime | float | None = None) -> ScoreTable:
        self.load(prepare_tables(defn, data))
        return self.run(self.score_sql(defn, as_of))

    def run(self, query: CompiledQuery) -> ScoreTable:
        """Run a compiled query against the loaded tables."""
        try:
            table = self.fetch_arrow(query.sql())
        except self.errors as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"{self.dialect} could not run the scoring query: {reason}") from exc
        if table.num_columns == 0:  # no rows: an empty table with the query's columns
            table = pa.table({name: pa.array([], pa.string()) for name in _output_columns(query)})
        return ScoreTable(table, query)


def _output_columns(query: CompiledQuery) -> list[str]:
    return [e.alias_or_name for e in query.tree.expressions]
