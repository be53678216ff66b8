"""Bulk import of leads, accounts and events from CSV or JSON Lines, through a column mapping.

The file is read by the input readers (``leadgate/inputs/readers.py``), each row becomes a native record
through the mapping (``leadgate/inputs/mapping.py``) and is checked like one posted to the REST API
(``records.py``).  Good rows are applied in chunks, one transaction and a few bulk statements per chunk;
bad rows are kept in ``rejected`` with file, row, field and reason (listable, fixable, replayable), never
dropped.  The touched leads are scored once at the end, as a batch, not one request per row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadgate.errors import InputError, RowError
from leadgate.inputs.mapping import Mapping, default_mapping
from leadgate.inputs.readers import read_raw
from leadgate.service.records import apply_accounts, apply_events, apply_leads, check, touched_by_accounts
from leadgate.store.store import Store, utcnow

KINDS = {"leads": "lead", "accounts": "account", "events": "event"}
CHUNK = 5000
#: Above this many touched leads, the end-of-import pass re-scores everyone (one query, no id list).
SCORE_ALL_ABOVE = 20_000


@dataclass
class ImportReport:
    kind: str
    file: str
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, as file:row N: field: message
    missing_columns: list[str] = field(default_factory=list)  # mapped, but not in this file
    unmapped_columns: list[str] = field(default_factory=list)  # in the file, not in the mapping
    leads_scored: int = 0
    new_mqls: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _field(problem: str, sources: dict[str, str]) -> tuple[str | None, str]:
    """A record problem (``email: ...``) named by the source column it came from, when there is one."""
    where, _, message = problem.partition(": ")
    if not message:
        return None, problem
    return sources.get(where, sources.get(where.split(".")[0], where)), message


def import_file(
    store: Store,
    kind: str,
    path: Path,
    mapping: Mapping | None = None,
    *,
    actor: str = "import",
    name: str | None = None,
    score: bool = True,
    keep_problems: int = 20,
) -> ImportReport:
    """Import one file of ``kind`` (leads, accounts or events) into the store."""
    if kind not in KINDS:
        raise InputError(f"import: expected leads, accounts or events, found {kind!r}")
    mapping = mapping or default_mapping(kind)
    if mapping.kind != kind:
        raise InputError(f"{mapping.source}: this mapping is for {mapping.kind}, not {kind}")
    started = time.perf_counter()
    label = name or path.name
    report = ImportReport(kind=kind, file=label)
    unreadable: list[RowError] = []
    raw = read_raw(path, unreadable)
    header = list(raw.table.column_names)
    missing = mapping.check_header(header, label)
    report.missing_columns = missing if mapping.source != "default" else []
    if mapping.unmapped == "ignore":
        report.unmapped_columns = [h for h in header if h not in mapping.columns]
    sources = {c.to.split(".")[0] if c.to.startswith(("trait.", "property.")) else c.to: name
               for name, c in mapping.columns.items()}  # fmt: skip
    sources.update({c.to: name for name, c in mapping.columns.items()})
    singular = KINDS[kind]
    touched: set[str] = set()
    accounts: list[str] = []

    def reject(s: Any, row: int, record: Any, raw_row: Any, problems: list[RowError], converted: bool) -> None:
        """Keep a bad row; ``converted`` is False when a cell did not convert (the record holds it as found,
        so replaying it needs a corrected record)."""
        report.rejected += 1
        texts = [str(RowError(label, p.row, p.field, p.message)) for p in problems]
        if len(report.problems) < keep_problems:
            report.problems.extend(texts[: keep_problems - len(report.problems)])
        payload = {
            "kind": singular,
            "file": label,
            "row": row,
            "record": record,
            "raw": raw_row,
            "converted": converted,
        }
        store.reject(s, f"import:{kind}", payload, texts)

    report.rows += len(unreadable)
    with store.session() as s, s.begin():
        for err in unreadable:  # lines that are not JSON objects at all
            reject(s, err.row, None, None, [err], converted=False)
    for offset in range(0, raw.table.num_rows, CHUNK):
        rows = raw.table.slice(offset, CHUNK).to_pylist()
        good: list[Any] = []
        bad: list[tuple[int, Any, Any, list[RowError], bool]] = []
        for i, row in enumerate(rows):
            number = raw.row_label(offset + i)
            record, mapped_problems = mapping.apply(row)
            problems = [RowError(label, number, column, message) for column, message in mapped_problems]
            if not problems:
                checked, record_problems = check(singular, record)
                for text in record_problems:
                    column, message = _field(text, sources)
                    problems.append(RowError(label, number, column, message))
                if checked is not None:
                    good.append(checked)
                    continue
            bad.append((number, record, row, problems, not mapped_problems))
        report.rows += len(rows)
        with store.session() as s, s.begin():
            for number, record, row, problems, converted in bad:
                reject(s, number, record, row, problems, converted)
            now = utcnow()
            if singular == "lead":
                touched.update(apply_leads(store, s, good, actor, at=now))
                report.accepted += len(good)
            elif singular == "account":
                accounts.extend(apply_accounts(store, s, good, at=now))
                report.accepted += len(good)
            else:
                lead_ids, fresh = apply_events(store, s, good, actor, source="import", at=now)
                touched.update(lead_ids)
                report.accepted += len(fresh)
                report.duplicates += len(good) - len(fresh)
    if accounts:
        touched |= touched_by_accounts(store, accounts)
    if score and touched:
        outcome = store.score(None if len(touched) > SCORE_ALL_ABOVE else sorted(touched), actor=actor)
        if outcome is not None:
            report.leads_scored, report.new_mqls = len(outcome.scores), outcome.new_mqls
    report.seconds = round(time.perf_counter() - started, 3)
    return report
