"""Scores at many snapshots, evaluated only where they can change: the backtest's fast path.

Without decay a lead's score is a function of its traits (fixed) and of how many of its events each
event condition counts.  Between snapshots ``T_0 < … < T_n`` those counts change only when an event
enters the history (its *entry* snapshot, the first ``T_i ≥ ts``) or leaves a window (its *exit*
snapshot, the first ``T_i`` with ``ts ≤ T_i − W``), and the lead itself only appears at its creation.
So instead of scoring every lead at every snapshot, this query scores each lead at its *change points*
and nothing else; its result at any snapshot is the one at its latest change point at or before it.

    ev     events up to T_n, each with its entry snapshot ``__lo`` and, per window length, its exit
           snapshot ``__x<j>`` (n when it never leaves): comparisons with the very timestamp literals
           ``compile_definition`` writes at each T_i, so membership is exact
    d      count changes: +1 per matching event at its entry, −1 at its exit for windowed conditions,
           and a zero row at each lead's creation snapshot
    cum    running totals per lead in snapshot order: the counts ``n<k>`` at each change point (rows
           at the same snapshot are peers and get the same totals)
    base   cum ⋈ leads ⟕ accounts: one row per change point at or after the lead's creation
    …      the stages of query.py, unchanged
    final  the output columns of query.py plus ``__i``, the change point's snapshot index

Decay moves scores between events, and account roll-ups and model predictions move a lead's score at
instants that are not its own: definitions with those take the per-snapshot path (``supports``).  A
property test holds the expanded result equal to ``compile_definition`` at every snapshot, on DuckDB and
SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlglot import exp

from leadgate.compiler import dialects
from leadgate.compiler.query import SENTINEL_US, Layout, TableNames, _Compiler, table_ref
from leadgate.compiler.snapshots import INSTANT_COLUMN, MultiQuery, _check
from leadgate.compiler.sqlbuild import case, col, flag, ident, num, or_, string
from leadgate.definition.model import Definition, EventCond
from leadgate.errors import LeadgateError


def supports(defn: Definition) -> bool:
    """Whether a lead's score only changes at its own events, their window exits and its creation: no
    decay, no account roll-up (other leads' events move it) and no model predictions (new ones move it)."""
    decays = any(defn.half_life(rule) for rule in defn.engagement)
    return not decays and defn.account is None and not defn.models()


@dataclass(frozen=True)
class _Window:
    micros: int
    column: str


class _ChangeCompiler(_Compiler):
    def __init__(self, defn: Definition, dialect: str, tables: TableNames, instants: Sequence[float]):
        super().__init__(defn, dialect, SENTINEL_US / 1_000_000, tables)
        if not supports(defn):
            raise LeadgateError(
                "change points need a definition without decay, account roll-up or predicted conditions"
            )
        self.instants_us = [round(t * 1_000_000) for t in instants]
        self.n = len(self.instants_us)
        self.windows: dict[int, _Window] = {}
        for _, cond in self.econds.values():
            if cond.within is not None:
                w = round(cond.within * 1_000_000)
                self.windows.setdefault(w, _Window(w, f"__x{len(self.windows)}"))

    def at(self, micros: int) -> exp.Expression:  # pragma: no cover - a guard for future compiler parts
        raise AssertionError("change points: an instant-dependent value outside the compiled snapshots")

    def now_seconds(self) -> exp.Expression:  # pragma: no cover - decay is refused in __init__
        raise AssertionError("change points: decay is not supported")

    def literal(self, micros: int) -> exp.Expression:
        return dialects.timestamp_literal(micros, self.dialect)

    def bucket(self, x: exp.Expression, offset_us: int, lo: int = 0, hi: int | None = None) -> exp.Expression:
        """The first snapshot index i in [lo, hi) with ``x <= T_i + offset`` (hi when none): a balanced
        tree of comparisons with literals, so each row costs log2(n) of them."""
        hi = self.n if hi is None else hi
        if hi - lo <= 3:
            whens = [(exp.LTE(this=x.copy(), expression=self.literal(self.instants_us[i] + offset_us)), num(i))
                     for i in range(lo, hi)]  # fmt: skip
            return case(whens, num(hi)) if whens else num(hi)
        mid = (lo + hi) // 2
        test = exp.LTE(this=x.copy(), expression=self.literal(self.instants_us[mid - 1] + offset_us))
        return case([(test, self.bucket(x, offset_us, lo, mid))], self.bucket(x, offset_us, mid, hi))

    def created_bucket(self, alias: str) -> exp.Expression:
        created = col("created_at", alias)
        return case([(exp.Is(this=created.copy(), expression=exp.Null()), num(0))], self.bucket(created, 0))

    def unwindowed(self, cond: EventCond) -> exp.Expression:
        return self.match(cond.model_copy(update={"within": None}))

    # -- counts at change points ------------------------------------------------------------------------
    def ev(self) -> exp.Select:
        names = sorted(self.d.event_names())
        ts = col("ts", "e")
        cols: list[exp.Expression] = [
            exp.alias_(col("lead_id", "e"), "lead_id", quoted=True),
            exp.alias_(col("event", "e"), "event", quoted=True),
            exp.alias_(ts, "ts", quoted=True),
        ]
        cols += [exp.alias_(col(name, "e"), alias, quoted=True) for name, alias in self.props.items()]
        cols.append(exp.alias_(self.bucket(ts, 0), "__lo", quoted=True))
        cols += [exp.alias_(self.bucket(ts, -w.micros), w.column, quoted=True) for w in self.windows.values()]
        where = exp.and_(
            exp.In(this=col("event", "e"), expressions=[string(n) for n in names]),
            exp.LTE(this=ts.copy(), expression=self.literal(self.instants_us[-1])),
        )
        return exp.select(*cols).from_(table_ref(self.tables.events).as_("e")).where(where)

    def pre(self) -> exp.Select:
        """Events grouped by lead, entry and exit snapshots: how many each event condition matches."""
        keys = [col("lead_id"), col("__lo"), *(col(w.column) for w in self.windows.values())]
        sums = [
            exp.alias_(exp.Sum(this=flag(self.unwindowed(c))), f"n{k}", quoted=True) for k, c in self.econds.values()
        ]
        # Events no condition counts change nothing: leave them out before grouping (most page views).
        counted = or_(self.unwindowed(c) for _, c in self.econds.values())
        q = exp.select(*keys, *sums).from_(exp.Table(this=ident("ev"))).where(counted)
        return q.group_by(*(k.copy() for k in keys))

    def deltas(self) -> exp.Expression:
        """Count changes by snapshot: entries, exits (negative, windowed conditions only), and a zero row
        at each lead's creation.  A lead may have several rows at one snapshot."""
        conds = list(self.econds.values())
        parts: list[exp.Select] = []
        if conds:
            entries = [exp.alias_(col(f"n{k}"), f"n{k}", quoted=True) for k, _ in conds]
            parts.append(
                exp.select(col("lead_id"), exp.alias_(col("__lo"), "__b", quoted=True), *entries).from_(
                    exp.Table(this=ident("pre"))
                )
            )
        for w in self.windows.values():
            exits: list[exp.Expression] = []
            for k, c in conds:
                windowed = c.within is not None and round(c.within * 1_000_000) == w.micros
                exits.append(exp.alias_(exp.Neg(this=col(f"n{k}")) if windowed else num(0), f"n{k}", quoted=True))
            parts.append(
                exp.select(col("lead_id"), exp.alias_(col(w.column), "__b", quoted=True), *exits)
                .from_(exp.Table(this=ident("pre")))
                .where(exp.LT(this=col(w.column), expression=num(self.n)))
            )
        born = self.created_bucket("l")
        zeros = [exp.alias_(num(0), f"n{k}", quoted=True) for k, _ in conds]
        parts.append(
            exp.select(exp.alias_(col("lead_id", "l"), "lead_id", quoted=True), exp.alias_(born, "__b", quoted=True))
            .select(*zeros, copy=False)
            .from_(table_ref(self.tables.leads).as_("l"))
            .where(exp.LT(this=born.copy(), expression=num(self.n)))
        )
        union: exp.Expression = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False)
        return union

    def running(self) -> exp.Select:
        """Running totals per lead in snapshot order: the counts at each change point.  Narrow (ids,
        snapshot, counts): the window sorts little, and the leads' fields are joined after it."""
        # RANGE: rows at the same snapshot are peers, so each gets the total of every change up to it.
        spec = exp.WindowSpec(kind="RANGE", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")

        def over(fn: exp.Expression, frame: exp.WindowSpec | None) -> exp.Window:
            order = exp.Order(expressions=[exp.Ordered(this=col("__b"))])
            return exp.Window(this=fn, partition_by=[col("lead_id")], order=order, spec=frame)

        cols: list[exp.Expression] = [col("lead_id"), exp.alias_(col("__b"), INSTANT_COLUMN, quoted=True)]
        for k, _ in self.econds.values():
            cols.append(exp.alias_(over(exp.Sum(this=col(f"n{k}")), spec.copy()), f"n{k}", quoted=True))
        cols.append(exp.alias_(over(exp.Lead(this=col("__b")), None), "__next", quoted=True))
        return exp.select(*cols).from_(exp.Table(this=ident("d")))

    def base(self) -> exp.Select:
        """One row per change point (the last of its peers) at or after the lead's creation, with the
        lead's fields; earlier changes are in the running totals."""
        cols: list[exp.Expression] = [
            exp.alias_(col("lead_id", "l"), "lead_id", quoted=True),
            exp.alias_(col(INSTANT_COLUMN, "g"), INSTANT_COLUMN, quoted=True),
        ]
        for (table, name), alias in self.fields.items():
            cols.append(exp.alias_(col(name, "l" if table == "leads" else "a"), alias, quoted=True))
        cols += [exp.alias_(col(f"n{k}", "g"), f"n{k}", quoted=True) for k, _ in self.econds.values()]
        q = exp.select(*cols).from_(exp.Table(this=ident("cum")).as_("g"))
        same_lead = exp.EQ(this=col("lead_id", "l"), expression=col("lead_id", "g"))
        q = q.join(table_ref(self.tables.leads).as_("l"), on=same_lead, join_type="inner")
        if any(t == "accounts" for t, _ in self.fields):
            q = q.join(
                table_ref(self.tables.accounts).as_("a"),
                on=exp.EQ(this=col("account_id", "l"), expression=col("account_id", "a")),
                join_type="left",
            )
        last = exp.or_(
            exp.Is(this=col("__next", "g"), expression=exp.Null()),
            exp.GT(this=col("__next", "g"), expression=col(INSTANT_COLUMN, "g")),
        )
        exists = exp.GTE(this=col(INSTANT_COLUMN, "g"), expression=self.created_bucket("l"))
        return q.where(exp.and_(last, exists))

    def final(self, layout: Layout) -> exp.Select:
        q = super().final(layout)
        q.set("order", None)
        return q.select(col(INSTANT_COLUMN), copy=False)

    def build(self) -> tuple[exp.Select, Layout]:
        layout = Layout()
        ctes: list[tuple[str, exp.Expression]] = []
        if self.econds:
            ctes += [("ev", self.ev()), ("pre", self.pre())]
        ctes += [("d", self.deltas()), ("cum", self.running()), ("base", self.base())]
        ctes += self.stages(layout)
        query = self.final(layout)
        for name, body in ctes:
            query = query.with_(ident(name), as_=body)
        return query, layout


def compile_changes(
    defn: Definition, instants: Sequence[float], *, dialect: str = "duckdb", tables: TableNames | None = None
) -> MultiQuery:
    """One query scoring every lead at its change points among ``instants`` (ascending epoch seconds).

    A row with ``__i = i`` is the lead's result at ``instants[i]`` and at every later instant up to its
    next row.  Leads appear from the first instant at which they exist.  Raises for definitions with
    decay (see ``supports``)."""
    names = tables or TableNames()
    ts = _check(instants)
    if any(b <= a for a, b in pairwise(ts)):
        raise LeadgateError("snapshots must be in ascending order, without repeats")
    tree, layout = _ChangeCompiler(defn, dialect, names, ts).build()
    return MultiQuery(defn, dialect, ts, None, tree, layout, names)
