"""The numbers of a backtest, per period and in total (their meaning: docs/backtest.md).

Everything here is computed from a ``Replay`` (who first qualified, and when) and, when given, the
``Outcomes`` (what happened to those leads afterwards): pure arithmetic on columns, no engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadgate.backtest.outcomes import Outcomes
from leadgate.backtest.periods import Period, iso
from leadgate.backtest.replay import Replay, micros

DAY_US = 86_400_000_000


@dataclass
class Metrics:
    """One definition over one period (or the whole range).  Rates are None when undefined (÷ 0);
    outcome fields are None when no outcomes were given."""

    leads: int  # leads that exist at the end of the period
    new_leads: int  # leads created in the period
    mqls: int  # leads that first qualified in the period
    mql_rate: float | None  # mqls ÷ new_leads
    days_to_mql_median: float | None  # from creation to the MQL instant
    days_to_mql_p90: float | None
    sqls: int | None = None  # MQLs that became SQLs at or after their MQL instant
    already_sql: int | None = None  # MQLs that were SQLs before they would have qualified
    opportunities: int | None = None
    customers: int | None = None
    revenue: float | None = None
    sql_rate: float | None = None  # sqls ÷ mqls
    opportunity_rate: float | None = None
    customer_rate: float | None = None  # customers ÷ mqls
    revenue_per_mql: float | None = None  # revenue ÷ mqls

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MqlRecord:
    """One lead that first qualified in the range, and what happened to it afterwards."""

    lead_id: str
    period: int
    mql_at: float
    how: str
    created_at: float | None
    days_to_mql: float | None
    became_sql: bool | None = None
    sql_at: float | None = None
    already_sql: bool | None = None
    opportunity: bool | None = None
    won: bool | None = None
    revenue: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["mql_at"] = iso(self.mql_at)
        out["created_at"] = iso(self.created_at) if self.created_at is not None else None
        out["sql_at"] = iso(self.sql_at) if self.sql_at is not None else None
        return out


@dataclass
class DefinitionReport:
    name: str
    version: str
    label: str  # how the user named it (a file, or a stored version)
    path: str  # "changes" or "snapshots": how the snapshots were computed
    mqls_at_start: int  # already MQLs at the start of the range (not counted in any period)
    periods: list[tuple[Period, Metrics]]
    total: Metrics
    mqls: list[MqlRecord] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def lead_ids(self) -> set[str]:
        return {m.lead_id for m in self.mqls}

    def to_dict(self, *, with_leads: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "label": self.label,
            "path": self.path,
            "mqls_at_start": self.mqls_at_start,
            "periods": [
                {"period": p.index, "start": iso(p.start), "end": iso(p.end), **m.to_dict()} for p, m in self.periods
            ],
            "total": self.total.to_dict(),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if with_leads:
            out["mqls"] = [m.to_dict() for m in self.mqls]
        return out


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if values.size else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def metrics(records: list[MqlRecord], leads: int, new_leads: int, with_outcomes: bool) -> Metrics:
    """The metrics of a set of MQL records (a period's, the range's, or the leads one change gains)."""
    days = np.array([r.days_to_mql for r in records if r.days_to_mql is not None], dtype=np.float64)
    n = len(records)
    m = Metrics(
        leads=leads,
        new_leads=new_leads,
        mqls=n,
        mql_rate=_ratio(n, new_leads),
        days_to_mql_median=_quantile(days, 0.5),
        days_to_mql_p90=_quantile(days, 0.9),
    )
    if with_outcomes:
        counted = [r for r in records if not r.already_sql]
        m.sqls = sum(1 for r in counted if r.became_sql)
        m.already_sql = n - len(counted)
        m.opportunities = sum(1 for r in counted if r.opportunity)
        m.customers = sum(1 for r in counted if r.won)
        m.revenue = float(sum(r.revenue or 0.0 for r in counted if r.won))
        m.sql_rate = _ratio(m.sqls, n)
        m.opportunity_rate = _ratio(m.opportunities, n)
        m.customer_rate = _ratio(m.customers, n)
        m.revenue_per_mql = _ratio(m.revenue, n)
    return m


def _take(table: pa.Table, name: str, index: pa.Array) -> list[Any]:
    return pc.take(table.column(name), index).to_pylist()  # type: ignore[no-any-return]


def records(run: Replay, outcomes: Outcomes | None) -> list[MqlRecord]:
    """The MQL records of a replay, joined (by lead id) to the leads' creation and their outcomes."""
    ids = pa.array([m.lead_id for m in run.mqls], pa.string())
    at = [round(m.at * 1_000_000) for m in run.mqls]
    where = pc.index_in(ids, value_set=run.leads.column("lead_id"))
    created = _take(run.leads, "created_at", where)
    out = []
    for m, t, c in zip(run.mqls, at, created, strict=True):
        out.append(
            MqlRecord(
                lead_id=m.lead_id,
                period=m.period,
                mql_at=m.at,
                how=m.how,
                created_at=None if c is None else c / 1_000_000,
                days_to_mql=None if c is None else (t - c) / DAY_US,
            )
        )
    if outcomes is None:
        return out
    table = outcomes.table
    where = pc.index_in(ids, value_set=table.column("lead_id"))
    columns = {name: _take(table, name, where) for name in ("became_sql", "opportunity", "won", "revenue")}
    sql_at = micros(pc.take(table.column("sql_at"), where)).to_pylist()
    for i, (r, t) in enumerate(zip(out, at, strict=True)):
        r.became_sql = bool(columns["became_sql"][i])
        r.sql_at = None if sql_at[i] is None else sql_at[i] / 1_000_000
        r.already_sql = bool(r.became_sql and sql_at[i] is not None and sql_at[i] < t)
        r.opportunity = bool(columns["opportunity"][i])
        r.won = bool(columns["won"][i])
        r.revenue = float(columns["revenue"][i] or 0.0)
    return out


def definition_report(run: Replay, outcomes: Outcomes | None, label: str) -> DefinitionReport:
    """Per-period and total metrics of one replay."""
    recs = records(run, outcomes)
    created = np.asarray(run.leads.column("created_at").to_numpy(zero_copy_only=False), dtype=np.float64)
    known = ~np.isnan(created)

    def counts(lo: float, hi: float) -> tuple[int, int]:
        lo_us, hi_us = round(lo * 1_000_000), round(hi * 1_000_000)
        existing = int((~known).sum() + (created[known] <= hi_us).sum())
        new = int(((created[known] > lo_us) & (created[known] <= hi_us)).sum())
        return existing, new

    by_period: dict[int, list[MqlRecord]] = {p.index: [] for p in run.snapshots.periods}
    for r in recs:
        by_period[r.period].append(r)
    with_outcomes = outcomes is not None
    periods = []
    for p in run.snapshots.periods:
        existing, new = counts(p.start, p.end)
        periods.append((p, metrics(by_period[p.index], existing, new, with_outcomes)))
    existing, new = counts(run.snapshots.start, run.snapshots.end)
    return DefinitionReport(
        name=run.definition.name,
        version=run.definition.version_str,
        label=label,
        path=run.path,
        mqls_at_start=len(run.at_start),
        periods=periods,
        total=metrics(recs, existing, new, with_outcomes),
        mqls=recs,
        timings=dict(run.timings),
    )
