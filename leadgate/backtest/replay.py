"""Replaying history on an engine: who first qualifies, and at which instant.

Two passes, both compiled SQL on the engine that holds the history:

1. **Snapshots.**  Every lead is scored at each snapshot ``T_0 < … < T_n``; a lead's first snapshot
   is the first ``T_i`` at which it qualifies.  Definitions without decay use the change-point query
   (``compiler/changes.py``: one pass over the events, leads scored only where their counts change);
   definitions with decay run the compiled query once per snapshot on the loaded engine.
2. **Refinement.**  For each lead that first qualifies at ``T_i`` (i ≥ 1), the instants in
   ``(T_{i−1}, T_i]`` at which its score can change are probed (``compile_probes``): each of its events
   the definition reads, each instant one of its events leaves a window (``ts + W``), its creation, and
   each new prediction of a model the definition reads.
   The earliest probe at which it qualifies is its MQL instant.  The live service scores at every event,
   so for definitions without decay this is exactly when it would have become an MQL.  When no probe
   qualifies (decay moved the score between events), the MQL instant is ``T_i`` itself: when a periodic
   re-score at the snapshots would have caught it (``how = "snapshot"``).  So it is for definitions
   with an account roll-up, where other leads' events move a lead's score: they are not refined.

Point in time throughout: the compiled SQL sees only events at or before the instant it scores, and
only leads created by then.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from leadgate.backtest.periods import Snapshots
from leadgate.compiler.changes import compile_changes, supports
from leadgate.compiler.query import compile_template
from leadgate.compiler.snapshots import INSTANT_COLUMN, INSTANTS_TABLE, compile_probes, counted_events
from leadgate.compiler.sqlbuild import col, ident, num, string
from leadgate.definition.model import Definition, EventCond, walk
from leadgate.engines import Engine
from leadgate.errors import LeadgateError
from leadgate.inputs.dataset import TS_TYPE

REFINE_TABLE = "lg_refine"
PATHS = ("auto", "changes", "snapshots")
_PLACEHOLDER = "lg_inner_query"


@dataclass(frozen=True)
class FirstMql:
    """A lead's first qualification inside the backtest: period (1-based), instant, and what moved it
    there: ``event`` (one of its events), ``window`` (an event left a window), ``created`` (the lead
    appeared), ``prediction`` (a new model prediction), or ``snapshot`` (no probe qualified, or the
    definition rolls engagement up to accounts: the snapshot instant, an upper bound)."""

    lead_id: str
    period: int
    at: float
    how: str  # event, window, created, prediction or snapshot


@dataclass
class Replay:
    """One definition replayed over snapshots."""

    definition: Definition
    snapshots: Snapshots
    at_start: list[str]  # qualified at T_0: MQLs before the backtest starts
    mqls: list[FirstMql]  # first qualified in (T_0, T_n], by instant
    leads: pa.Table  # lead_id, created_at (µs since the epoch, null when unknown) of every lead
    path: str  # "changes" or "snapshots"
    timings: dict[str, float] = field(default_factory=dict)


def micros(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Instants as int64 epoch microseconds, from a timestamp column or SQLite's REAL epoch seconds."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    t = column.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            column = column.cast(pa.timestamp(t.unit, "UTC")).cast(pa.timestamp(t.unit))
        return column.cast(TS_TYPE).cast(pa.int64())
    if pa.types.is_null(t):
        return pa.nulls(len(column), pa.int64())
    return pc.round(pc.multiply(column.cast(pa.float64()), 1_000_000.0)).cast(pa.int64())


def _wrap(inner: str, dialect: str, outer: exp.Select) -> str:
    """``outer`` with its placeholder table replaced by ``(inner) AS q``: a query around compiled SQL
    text without parsing it again."""
    text = outer.sql(dialect=dialect)
    placeholder = exp.Table(this=ident(_PLACEHOLDER)).sql(dialect=dialect)
    if text.count(placeholder) != 1:  # pragma: no cover - the outer query names it once
        raise AssertionError("wrapper: placeholder not found once")
    return text.replace(placeholder, f"({inner}) AS q")


def _qualified(*columns: exp.Expression) -> exp.Select:
    source = exp.Table(this=ident(_PLACEHOLDER))
    return exp.select(*columns).from_(source).where(exp.EQ(this=col("qualified"), expression=num(1)))


def first_snapshots_sql(defn: Definition, snapshots: Snapshots, dialect: str) -> str:
    """The change-point pass: per lead, the first snapshot index at which it qualifies (dry-run twin)."""
    query = compile_changes(defn, snapshots.instants, dialect=dialect)
    outer = _qualified(col("lead_id"), exp.alias_(exp.Min(this=col(INSTANT_COLUMN)), "first", quoted=True))
    return _wrap(query.sql(), dialect, outer.group_by(col("lead_id")))


def _first_by_changes(defn: Definition, engine: Engine, snapshots: Snapshots) -> dict[str, int]:
    table = engine.fetch_arrow(first_snapshots_sql(defn, snapshots, engine.dialect))
    if table.num_columns == 0:
        return {}
    ids = table.column("lead_id").to_pylist()
    return dict(zip(ids, (int(i) for i in table.column("first").to_pylist()), strict=True))


def _first_by_snapshot(defn: Definition, engine: Engine, snapshots: Snapshots) -> dict[str, int]:
    template = compile_template(defn, dialect=engine.dialect)
    outer = _qualified(col("lead_id"))
    first: dict[str, int] = {}
    for i, t in enumerate(snapshots.instants):
        table = engine.fetch_arrow(_wrap(template.at(t).sql(), engine.dialect, outer))
        if table.num_columns:
            for lead in table.column("lead_id").to_pylist():
                first.setdefault(lead, i)
    return first


def _windows(defn: Definition) -> list[int]:
    """Window lengths (µs) of the definition's event conditions."""
    out = set()
    for cond in defn.all_conditions():
        for node in walk(cond):
            if isinstance(node, EventCond) and node.within is not None:
                out.add(round(node.within * 1_000_000))
    return sorted(out)


def _ts(values: list[int]) -> pa.Array:
    return pa.array(values, pa.int64()).cast(TS_TYPE)


def _candidates(
    defn: Definition, engine: Engine, snapshots: Snapshots, new: dict[str, int]
) -> dict[str, dict[int, str]]:
    """Per lead, the instants (µs) in its period at which its score can change, and why: its events that
    some condition counts, the instants those leave a window, and its creation."""
    inst = [round(t * 1_000_000) for t in snapshots.instants]
    windows = _windows(defn)
    reach = max(windows, default=0)
    ids = sorted(new)
    engine.load_table(
        REFINE_TABLE,
        pa.table(
            {
                "lead_id": pa.array(ids, pa.string()),
                "lo": _ts([inst[new[i] - 1] for i in ids]),
                "hi": _ts([inst[new[i]] for i in ids]),
                "since": _ts([inst[new[i] - 1] - reach for i in ids]),
            }
        ),
    )
    found: dict[str, dict[int, str]] = defaultdict(dict)
    bounds = {i: (inst[new[i] - 1], inst[new[i]]) for i in ids}
    if defn.event_names():
        for lead, t in _instants(engine, "events", "ts", "since", counted_events(defn, engine.dialect, "x")):
            lo, hi = bounds[lead]
            for w in windows:  # the instant the event leaves a window of length w
                if lo < t + w <= hi:
                    found[lead].setdefault(t + w, "window")
            if lo < t:
                found[lead][t] = "event"
    for lead, t in _instants(engine, "leads", "created_at", "lo", None):
        found[lead].setdefault(t, "created")
    models = defn.models()
    if models:
        wanted = exp.In(this=col("model", "x"), expressions=[string(m) for m in models])
        for lead, t in _instants(engine, "predictions", "scored_at", "lo", wanted):
            found[lead].setdefault(t, "prediction")
    return found


def _instants(engine: Engine, table: str, column: str, low: str, where: exp.Expression | None) -> list[tuple[str, int]]:
    """(lead, µs) of the rows of ``table`` (alias x) whose ``column`` lies in (refine.``low``, refine.hi]
    for their lead, and pass ``where``."""
    bounds = exp.and_(
        exp.GT(this=col(column, "x"), expression=col(low, "r")),
        exp.LTE(this=col(column, "x"), expression=col("hi", "r")),
    )
    q = (
        exp.select(col("lead_id", "x"), exp.alias_(col(column, "x"), "t", quoted=True))
        .from_(exp.Table(this=ident(table)).as_("x"))
        .join(
            exp.Table(this=ident(REFINE_TABLE)).as_("r"),
            on=exp.EQ(this=col("lead_id", "x"), expression=col("lead_id", "r")),
            join_type="inner",
        )
        .where(bounds if where is None else exp.and_(where, bounds))
    )
    result = engine.fetch_arrow(q.sql(dialect=engine.dialect))
    if not result.num_columns:
        return []
    leads = result.column("lead_id").to_pylist()
    return list(zip(leads, micros(result.column("t")).to_pylist(), strict=True))


def _refine(defn: Definition, engine: Engine, snapshots: Snapshots, new: dict[str, int]) -> list[FirstMql]:
    """The MQL instant of each newly qualified lead: its earliest qualifying probe, else the snapshot.
    With an account roll-up, other leads' events move a lead's score: no probes, the snapshot."""
    if not new:
        return []
    found = _candidates(defn, engine, snapshots, new) if defn.account is None else {}
    probes = [(lead, t) for lead in sorted(found) for t in sorted(found[lead])]
    first: dict[str, int] = {}
    if probes:
        query = compile_probes(defn, [(lead, t / 1_000_000) for lead, t in probes], dialect=engine.dialect)
        assert query.instants_table is not None
        engine.load_table(INSTANTS_TABLE, query.instants_table)
        table = engine.fetch_arrow(_wrap(query.sql(), engine.dialect, _qualified(col(INSTANT_COLUMN))))
        if table.num_columns:
            for index in sorted(int(i) for i in table.column(INSTANT_COLUMN).to_pylist()):
                lead, t = probes[index]
                if lead not in first or t < first[lead]:
                    first[lead] = t
    out = []
    for lead, period in new.items():
        if lead in first:
            t = first[lead]
            out.append(FirstMql(lead, period, t / 1_000_000, found[lead][t]))
        else:
            out.append(FirstMql(lead, period, snapshots.instants[period], "snapshot"))
    out.sort(key=lambda m: (m.at, m.lead_id))
    return out


def replay(defn: Definition, engine: Engine, snapshots: Snapshots, *, path: str = "auto") -> Replay:
    """Replay ``defn`` over the history loaded in ``engine`` (see the module docstring)."""
    if path not in PATHS:
        raise LeadgateError(f"path: expected one of {', '.join(PATHS)}; found '{path}'")
    if path == "changes" and not supports(defn):
        raise LeadgateError(f"'{defn.name}' decays scores between events: the change-point path does not apply")
    chosen = "changes" if path == "changes" or (path == "auto" and supports(defn)) else "snapshots"
    timings: dict[str, float] = {}
    started = time.perf_counter()
    first = (_first_by_changes if chosen == "changes" else _first_by_snapshot)(defn, engine, snapshots)
    timings["snapshots"] = time.perf_counter() - started
    started = time.perf_counter()
    mqls = _refine(defn, engine, snapshots, {lead: i for lead, i in first.items() if i >= 1})
    timings["refine"] = time.perf_counter() - started
    started = time.perf_counter()
    leads = engine.fetch_arrow(
        exp.select(col("lead_id"), col("created_at")).from_(exp.Table(this=ident("leads"))).sql(dialect=engine.dialect)
    )
    if leads.num_columns == 0:
        leads = pa.table({"lead_id": pa.array([], pa.string()), "created_at": pa.array([], pa.int64())})
    else:
        leads = pa.table({"lead_id": leads.column("lead_id").cast(pa.string()), "created_at": micros(leads.column(1))})
    timings["leads"] = time.perf_counter() - started
    at_start = sorted(lead for lead, i in first.items() if i == 0)
    return Replay(defn, snapshots, at_start, mqls, leads, chosen, timings)
