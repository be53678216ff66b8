"""Where a backtest reads history from: input files, a Dataset in memory, or the live store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leadgate.definition.model import Definition
from leadgate.engines import Engine, prepare_tables
from leadgate.errors import LeadgateError, RowError
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.readers import FieldTypes, read_dataset


def merged_field_types(definitions: Sequence[Definition]) -> dict[tuple[str, str], str | None]:
    """Every field any of the definitions reads, with its type; a field read as two types is an error."""
    merged: dict[tuple[str, str], str | None] = {}
    for defn in definitions:
        for key, kind in defn.field_types().items():
            prior = merged.get(key)
            if prior is not None and kind is not None and prior != kind:
                table, column = key
                where = f"account.{column}" if table == "accounts" else column
                raise LeadgateError(
                    f"'{where}' is read as a {prior} by one definition and as a {kind} by another; "
                    "a backtest compares definitions on the same typed history"
                )
            merged[key] = kind if kind is not None else prior
    return merged


@dataclass
class History:
    """The leads, accounts and events to replay: files (``leads``, ``events``, ``accounts``), a
    ``data`` Dataset, or the store at ``database``.  Files are read (or scanned in place) once per run."""

    leads: Path | None = None
    events: Path | None = None
    accounts: Path | None = None
    predictions: Path | None = None  # read only for definitions with ``predicted`` conditions
    data: Dataset | None = None
    database: str | None = None
    rejected: list[RowError] = field(default_factory=list)
    _read: Dataset | None = None

    def __post_init__(self) -> None:
        kinds = [self.leads is not None, self.data is not None, self.database is not None]
        if sum(kinds) != 1:
            raise LeadgateError("history: give input files (leads, events, accounts), a Dataset, or a database")
        if self.leads is None and (self.events or self.accounts or self.predictions) is not None:
            raise LeadgateError("history: events, accounts and predictions files need a leads file")

    @classmethod
    def files(
        cls,
        leads: str | Path,
        events: str | Path | None = None,
        accounts: str | Path | None = None,
        predictions: str | Path | None = None,
    ) -> History:
        def path(p: str | Path | None) -> Path | None:
            return Path(p) if p is not None else None

        return cls(leads=Path(leads), events=path(events), accounts=path(accounts), predictions=path(predictions))

    def describe(self) -> str:
        if self.database is not None:
            return f"store {self.database}"
        if self.leads is not None:
            files = (self.leads, self.events, self.accounts, self.predictions)
            return ", ".join(str(p) for p in files if p is not None)
        return "a Dataset"

    def load_into(self, engine: Engine, defn: Definition, field_types: FieldTypes) -> None:
        """Load the history into ``engine`` for ``defn``; ``field_types`` covers every definition of the
        run, so the files are converted once for all of them."""
        files = (self.leads, self.events, self.accounts, self.predictions)
        if self.leads is not None and engine.load_files(defn, *files):  # type: ignore[arg-type]
            return
        engine.load(prepare_tables(defn, self.dataset(field_types)))

    def dataset(self, field_types: FieldTypes) -> Dataset:
        if self.data is not None:
            return self.data
        if self._read is None:
            if self.database is not None:
                from leadgate.store.history import read_history
                from leadgate.store.store import Store

                store = Store(self.database)
                try:
                    self._read = read_history(store, field_types)
                finally:
                    store.engine.dispose()
            else:
                self._read = read_dataset(
                    self.leads,
                    self.events,
                    self.accounts,
                    field_types=field_types,
                    all_columns=False,
                    predictions=self.predictions,
                )
            self.rejected = list(self._read.rejected)
        return self._read
