"""Backtesting: replay history point in time and see who a definition would have made an MQL, when, and
what became of them; compare two definitions on the same history.

    >>> from leadgate.backtest import History, Snapshots, backtest
    >>> report = backtest("examples/classic.yaml", History.files("leads.parquet", "events.parquet"),
    ...                   Snapshots.between("2026-08-01", "2026-11-01", "week"), outcomes="outcomes.parquet")
    >>> report.definition.total.mqls

The meaning of every number is in docs/backtest.md.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadgate.backtest.compare import Comparison, compare
from leadgate.backtest.history import History, merged_field_types
from leadgate.backtest.outcomes import Outcomes, read_outcomes
from leadgate.backtest.periods import Snapshots, iso
from leadgate.backtest.replay import PATHS
from leadgate.backtest.replay import replay as replay_history  # the module keeps its name
from leadgate.backtest.report import DefinitionReport, Metrics, MqlRecord, definition_report
from leadgate.definition.loader import load_definition
from leadgate.definition.model import Definition
from leadgate.engines import get_engine
from leadgate.errors import LeadgateError, RowError

PERIOD_FIELDS = [f for f in Metrics.__dataclass_fields__]


@dataclass
class BacktestReport:
    """A backtest: the snapshots, where history came from, one report per definition, the comparison."""

    snapshots: Snapshots
    history: str
    engine: str
    outcomes: str | None
    definition: DefinitionReport
    baseline: DefinitionReport | None = None
    comparison: Comparison | None = None
    rejected: list[RowError] = field(default_factory=list)

    def to_dict(self, *, with_leads: bool = True) -> dict[str, Any]:
        return {
            "from": iso(self.snapshots.start),
            "to": iso(self.snapshots.end),
            "every": self.snapshots.every,
            "snapshots": [iso(t) for t in self.snapshots.instants],
            "history": self.history,
            "engine": self.engine,
            "outcomes": self.outcomes,
            "rejected_rows": len(self.rejected),
            "definition": self.definition.to_dict(with_leads=with_leads),
            "baseline": None if self.baseline is None else self.baseline.to_dict(with_leads=with_leads),
            "comparison": None if self.comparison is None else self.comparison.to_dict(with_leads=with_leads),
        }

    def rows(self) -> list[dict[str, Any]]:
        """The period table (one row per period, then ``total``); with a baseline its columns follow,
        prefixed ``baseline_``, then ``gained`` and ``lost`` (the leads that change hands, by the period
        in which the definition, respectively the baseline, made them MQLs)."""
        out = []
        reports = [("", self.definition)] + ([("baseline_", self.baseline)] if self.baseline else [])
        labels = [(str(p.index), iso(p.start), iso(p.end)) for p, _ in self.definition.periods]
        labels.append(("total", iso(self.snapshots.start), iso(self.snapshots.end)))
        for i, (period, start, end) in enumerate(labels):
            row: dict[str, Any] = {"period": period, "start": start, "end": end}
            for prefix, report in reports:
                m = report.total if period == "total" else report.periods[i][1]
                row.update({f"{prefix}{k}": v for k, v in m.to_dict().items()})
            if self.comparison is not None:
                row.update(zip(("gained", "lost"), self.changed_hands(None if period == "total" else i), strict=True))
            out.append(row)
        return out

    def changed_hands(self, index: int | None) -> tuple[int, int]:
        """(gained, lost) in the period at ``index`` (0-based), or over the range when None."""
        c = self.comparison
        if c is None:
            raise LeadgateError("no baseline: gained and lost leads need --against")
        if index is None:
            return len(c.gained), len(c.lost)
        return c.gained_by_period[index], c.lost_by_period[index]

    def write(self, path: str | Path) -> None:
        """The full report as ``.json``, or the period table as ``.csv``."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        elif path.suffix.lower() == ".csv":
            rows = self.rows()
            with path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        else:
            raise LeadgateError(f"{path}: expected a .json or .csv file for the report")

    def write_mqls(self, path: str | Path) -> None:
        """Every MQL of the range, one CSV row each (with a ``definition`` column when comparing)."""
        reports = [self.definition] + ([self.baseline] if self.baseline else [])
        names = ["definition", *MqlRecord.__dataclass_fields__]
        with Path(path).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=names)
            writer.writeheader()
            for report in reports:
                for record in report.mqls:
                    writer.writerow({"definition": report.label, **record.to_dict()})


def _load(definition: Definition | str | Path) -> tuple[Definition, str]:
    if isinstance(definition, Definition):
        return definition, f"{definition.name} v{definition.version_str}"
    return load_definition(definition), str(definition)


def backtest(
    definition: Definition | str | Path,
    data: History,
    snapshots: Snapshots,
    *,
    against: Definition | str | Path | None = None,
    outcomes: Outcomes | str | Path | None = None,
    engine: str = "duckdb",
    engine_options: dict[str, Any] | None = None,
    path: str = "auto",
    labels: tuple[str, ...] | None = None,
) -> BacktestReport:
    """Replay ``data`` at ``snapshots`` under ``definition`` (and ``against``, the baseline it is compared
    with) and report per period and in total; ``outcomes`` (a table or a file) adds what happened after."""
    if path not in PATHS:
        raise LeadgateError(f"path: expected one of {', '.join(PATHS)}; found '{path}'")
    loaded = [_load(definition)] + ([_load(against)] if against is not None else [])
    if labels is not None:
        loaded = [(d, label) for (d, _), label in zip(loaded, labels, strict=False)] + loaded[len(labels) :]
    result = read_outcomes(outcomes) if isinstance(outcomes, (str, Path)) else outcomes
    types = merged_field_types([d for d, _ in loaded])
    reports = []
    for defn, label in loaded:
        with get_engine(engine, **(engine_options or {})) as eng:
            data.load_into(eng, defn, types)
            run = replay_history(defn, eng, snapshots, path=path)
        reports.append(definition_report(run, result, label))
    report = BacktestReport(
        snapshots=snapshots,
        history=data.describe(),
        engine=engine,
        outcomes=None if result is None else result.source,
        definition=reports[0],
        rejected=list(data.rejected) + (list(result.rejected) if result is not None else []),
    )
    if len(reports) == 2:
        report.baseline = reports[1]
        report.comparison = compare(reports[0], reports[1], result is not None)
    return report


__all__ = [
    "BacktestReport",
    "Comparison",
    "DefinitionReport",
    "History",
    "Metrics",
    "MqlRecord",
    "Outcomes",
    "Snapshots",
    "backtest",
    "read_outcomes",
]
