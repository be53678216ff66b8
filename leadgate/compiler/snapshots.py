"""One query scoring leads at many instants: the backtest's compiler.

``compile_definition`` (``query.py``) writes every instant-dependent value as a literal: the as-of
instant, each window's lower bound ``T - W``, and ``T`` in epoch seconds for decay.  Here those literals
become columns of an *instants* relation joined into the query, so one pass serves many instants:

    inst   the instants, one row each: an index ``__i``, ``__now`` (epoch seconds), and one timestamp
           column per literal the single-instant query would have written (``__at_0`` is T itself,
           ``__at_<n>`` is T shifted by a window); the values are the very literals of the single query
    ev     events ⋈ instants: each event once per instant at or after it
    agg    grouped by lead and instant: the same counts, decay sums and latest times
    base   leads ⋈ instants (those created by then) ⟕ accounts ⟕ agg
    …      the stages of query.py, unchanged (they select ``*``, so ``__i`` and ``__now`` ride along)
    final  the output columns of query.py plus ``__i``

Two shapes of instants: ``compile_snapshots`` scores every lead at each of a few global instants, written
into the query as rows of literals; ``compile_probes`` scores given leads at instants of their own (the
backtest's refinement to the qualifying event), read from a table the caller loads (``instants_table``,
as Arrow, under ``INSTANTS_TABLE``): thousands of rows are data, not SQL text.  A property test holds
the result at each instant equal to ``compile_definition`` at that instant, on DuckDB and SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from leadgate.compiler import accounts, dialects, predictions
from leadgate.compiler.conditions import predicate
from leadgate.compiler.query import SENTINEL_US, CompiledQuery, Layout, TableNames, _Compiler, as_of_epoch, table_ref
from leadgate.compiler.sqlbuild import and_, col, ident, num, or_, string
from leadgate.definition.model import Definition, EventCond, walk
from leadgate.errors import LeadgateError
from leadgate.inputs.dataset import TS_TYPE

#: Output column holding the instant's index (into the instants given, in the order given).
INSTANT_COLUMN = "__i"
#: The table ``compile_probes`` queries read their (lead, instant) pairs from.
INSTANTS_TABLE = "lg_instants"


@dataclass(frozen=True)
class MultiQuery:
    """A query scoring at many instants; rows carry ``__i``, the index of their instant."""

    definition: Definition
    dialect: str
    instants: tuple[float, ...]
    leads: tuple[str, ...] | None  # per-instant lead (probes), or None: every lead at every instant
    tree: exp.Select
    layout: Layout
    tables: TableNames
    instants_table: pa.Table | None = None  # probes: load it as INSTANTS_TABLE before running the query

    def sql(self, pretty: bool = False) -> str:
        return str(self.tree.sql(dialect=self.dialect, pretty=pretty))

    def at(self, index: int) -> CompiledQuery:
        """The single-instant query for instant ``index`` (for decoding rows into LeadScores)."""
        return CompiledQuery(
            definition=self.definition,
            dialect=self.dialect,
            as_of=self.instants[index],
            tree=exp.select(),
            layout=self.layout,
            tables=self.tables,
            text="",
        )


class _MultiCompiler(_Compiler):
    """The single-instant compiler with its time literals turned into columns of the instants relation.

    ``at`` and ``now_seconds`` are the only places the parent writes instant-dependent values; the parts
    that read the input tables (``ev``, ``agg``, ``base``) get the instants joined in."""

    def __init__(self, defn: Definition, dialect: str, tables: TableNames, per_lead: bool):
        super().__init__(defn, dialect, SENTINEL_US / 1_000_000, tables)
        if per_lead and defn.account is not None:
            raise LeadgateError(
                f"'{defn.name}' rolls engagement up to accounts: a lead's score depends on its account's other "
                "leads at the same instant, so it cannot be probed alone"
            )
        self.per_lead = per_lead
        self.offsets: dict[int, str] = {0: "__at_0"}  # µs from T -> column of the instants relation

    # -- the instant-dependent values -------------------------------------------------------------------
    def at(self, micros: int) -> exp.Expression:
        offset = micros - self.T_us
        name = self.offsets.setdefault(offset, f"__at_{len(self.offsets)}")
        return col(name)

    def now_seconds(self) -> exp.Expression:
        return col("__now")

    # -- the parts that read input tables ----------------------------------------------------------------
    def ev(self) -> exp.Select:
        names = sorted(self.d.event_names())
        cols: list[exp.Expression] = [
            exp.alias_(col("lead_id", "e"), "lead_id", quoted=True),
            exp.alias_(col("event", "e"), "event", quoted=True),
            exp.alias_(col("ts", "e"), "ts", quoted=True),
        ]
        if self.needs_epoch:
            cols.append(exp.alias_(dialects.epoch_seconds(col("ts", "e"), self.dialect), "__t", quoted=True))
        cols += [exp.alias_(col(name, "e"), alias, quoted=True) for name, alias in self.props.items()]
        cols.append(exp.Column(this=exp.Star(), table=ident("s")))
        on: exp.Expression = exp.LTE(this=col("ts", "e"), expression=col("__at_0", "s"))
        if self.per_lead:
            on = exp.and_(exp.EQ(this=col("lead_id", "e"), expression=col("__lead", "s")), on)
        q = exp.select(*cols).from_(table_ref(self.tables.events).as_("e"))
        q = q.join(exp.Table(this=ident("inst")).as_("s"), on=on, join_type="inner")
        return q.where(exp.In(this=col("event", "e"), expressions=[string(n) for n in names]))

    def agg(self) -> exp.Select:
        q = super().agg()
        return q.select(col(INSTANT_COLUMN), copy=False).group_by(col(INSTANT_COLUMN), copy=False)

    def base(self) -> exp.Select:
        """The parent's ``base`` with the instants joined first (every lead at each instant, or each lead
        at its own) and the per-instant CTEs it joins (``agg``, ``pv``) matched on the instant too; its
        creation filter already compares with the instant's column."""
        q = super().base()
        instants = exp.Table(this=ident("inst")).as_("s")
        if self.per_lead:
            on = exp.EQ(this=col("lead_id", "l"), expression=col("__lead", "s"))
            first = exp.select().join(instants, on=on, join_type="inner").args["joins"][0]
        else:
            first = exp.select().join(instants, join_type="cross").args["joins"][0]
        joins = list(q.args.get("joins") or [])
        for join in joins:
            alias = join.this.alias_or_name
            if alias in ("g", "v"):  # agg and pv: one row per lead and instant
                same = exp.EQ(this=col(INSTANT_COLUMN, "s"), expression=col(INSTANT_COLUMN, alias))
                join.set("on", exp.and_(join.args["on"], same))
        q.set("joins", [first, *joins])
        return q.select(col(INSTANT_COLUMN, "s"), col("__now", "s"), copy=False)

    def prediction_ctes(self) -> list[tuple[str, exp.Select]]:
        """The single-instant ``pr`` / ``pv`` CTEs, per instant: predictions ⋈ instants, ranked and picked
        per lead, model and instant."""
        ranked, latest = (body for _, body in predictions.prediction_ctes(
            self.models, table_ref(self.tables.predictions), self.at(self.T_us)
        ))  # fmt: skip
        instants = exp.Table(this=ident("inst")).as_("s")
        if self.per_lead:
            ranked = ranked.join(
                instants, on=exp.EQ(this=col("lead_id", "p"), expression=col("__lead", "s")), join_type="inner"
            )
        else:
            ranked = ranked.join(instants, join_type="cross")
        ranked = ranked.select(exp.alias_(col(INSTANT_COLUMN, "s"), INSTANT_COLUMN, quoted=True), copy=False)
        rank = ranked.find(exp.Window)
        assert rank is not None
        rank.set("partition_by", [*rank.args["partition_by"], col(INSTANT_COLUMN, "s")])
        latest = latest.select(col(INSTANT_COLUMN), copy=False).group_by(col(INSTANT_COLUMN), copy=False)
        return [("pr", ranked), ("pv", latest)]

    def stages(self, layout: Layout) -> list[tuple[str, exp.Select]]:
        """The parent's stages; an account roll-up sums per account *and instant*."""
        out = super().stages(layout)
        if self.d.account is None:
            return out
        for name, body in out:
            if name == "acct" and self.dialect in accounts.MATERIALIZING:
                body.select(col(INSTANT_COLUMN), copy=False).group_by(col(INSTANT_COLUMN), copy=False)
            elif name == "acct":
                for window in body.find_all(exp.Window):
                    window.set("partition_by", [*window.args["partition_by"], col(INSTANT_COLUMN)])
            elif name == "tot" and self.dialect in accounts.MATERIALIZING:
                join = body.args["joins"][0]
                same = exp.EQ(this=col(INSTANT_COLUMN, "sc"), expression=col(INSTANT_COLUMN, "x"))
                join.set("on", exp.and_(join.args["on"], same))
        return out

    def final(self, layout: Layout) -> exp.Select:
        q = super().final(layout)
        q.set("order", None)  # many rows per lead: callers sort what they keep
        return q.select(col(INSTANT_COLUMN), copy=False)

    # -- the instants relation -------------------------------------------------------------------------
    def literal_rows(self, instants: Sequence[float]) -> exp.Expression:
        """The instants as rows of literals: the values the single-instant query writes at each T."""
        names = [INSTANT_COLUMN, "__now", *self.offsets.values()]
        rows = []
        for i, t in enumerate(instants):
            t_us = round(t * 1_000_000)
            row: list[exp.Expression] = [num(i), num(t_us / 1_000_000)]
            row += [dialects.timestamp_literal(t_us + offset, self.dialect) for offset in self.offsets]
            rows.append(row)
        return rows_relation(rows, names, self.dialect)

    def arrow_rows(self, instants: Sequence[float], leads: Sequence[str]) -> pa.Table:
        """The (lead, instant) pairs as a table of the same values (engines store them as they store
        input timestamps, so comparisons are the literals' comparisons)."""
        micros = [round(t * 1_000_000) for t in instants]
        columns: dict[str, pa.Array] = {
            INSTANT_COLUMN: pa.array(range(len(micros)), pa.int64()),
            "__lead": pa.array(leads, pa.string()),
            "__now": pa.array([m / 1_000_000 for m in micros], pa.float64()),
        }
        for offset, name in self.offsets.items():
            columns[name] = pa.array([m + offset for m in micros], pa.int64()).cast(TS_TYPE)
        return pa.table(columns)

    def build_multi(self, relation: Callable[[], exp.Expression]) -> tuple[exp.Select, Layout]:
        """The query; ``relation`` gives the instants relation once every offset is known (at the end)."""
        layout = Layout(account=self.d.account is not None)
        ctes: list[tuple[str, exp.Expression]] = []
        if self.econds:
            ctes += [("ev", self.ev()), ("agg", self.agg())]
        if self.models:
            ctes += self.prediction_ctes()
        ctes.append(("base", self.base()))
        ctes += self.stages(layout)
        query = self.final(layout)
        ctes.insert(0, ("inst", relation()))
        for name, body in ctes:
            query = query.with_(ident(name), as_=body)
        return query, layout


def counted_events(defn: Definition, dialect: str, alias: str) -> exp.Expression:
    """True for an event (table alias ``alias``) that some event condition of ``defn`` counts, windows
    aside: only those can change a score."""
    parts: list[exp.Expression] = []
    seen: set[str] = set()
    for cond in defn.all_conditions():
        for node in walk(cond):
            if not isinstance(node, EventCond) or node.model_dump_json() in seen:
                continue
            seen.add(node.model_dump_json())
            names = exp.In(this=col("event", alias), expressions=[string(n) for n in node.events])
            preds = [predicate(p, col(p.field, alias), dialect) for p in node.where]
            parts.append(and_([names, *preds]))
    return or_(parts)


def rows_relation(rows: Sequence[Sequence[exp.Expression]], names: Sequence[str], dialect: str) -> exp.Select:
    """``SELECT … FROM (VALUES …)`` with named columns, in a form every engine dialect accepts (SQLite
    names VALUES columns ``column1``, ``column2``, … and takes no column list on the alias)."""
    values = exp.Values(expressions=[exp.Tuple(expressions=list(r)) for r in rows])
    if dialect == "sqlite":
        source = exp.Subquery(this=values, alias=exp.TableAlias(this=ident("v")))
        cols = [exp.alias_(col(f"column{j + 1}", "v"), name, quoted=True) for j, name in enumerate(names)]
        return exp.select(*cols).from_(source)
    alias = exp.TableAlias(this=ident("v"), columns=[ident(n) for n in names])
    values.set("alias", alias)
    return exp.select(*[col(n, "v") for n in names]).from_(values)


def _check(instants: Sequence[float]) -> tuple[float, ...]:
    if not instants:
        raise LeadgateError("at least one instant is needed")
    return tuple(as_of_epoch(t) for t in instants)


def compile_snapshots(
    defn: Definition, instants: Sequence[float], *, dialect: str = "duckdb", tables: TableNames | None = None
) -> MultiQuery:
    """One query scoring every lead at each instant (epoch seconds); row ``__i`` is ``instants[__i]``."""
    names = tables or TableNames()
    ts = _check(instants)
    compiler = _MultiCompiler(defn, dialect, names, per_lead=False)
    tree, layout = compiler.build_multi(lambda: compiler.literal_rows(ts))
    return MultiQuery(defn, dialect, ts, None, tree, layout, names)


def compile_probes(
    defn: Definition,
    probes: Sequence[tuple[str, float]],
    *,
    dialect: str = "duckdb",
    tables: TableNames | None = None,
) -> MultiQuery:
    """One query scoring each (lead id, instant) pair; row ``__i`` is ``probes[__i]``.  Load
    ``instants_table`` as ``INSTANTS_TABLE`` before running it."""
    names = tables or TableNames()
    ts = _check([t for _, t in probes])
    leads = tuple(lead for lead, _ in probes)
    compiler = _MultiCompiler(defn, dialect, names, per_lead=True)
    tree, layout = compiler.build_multi(lambda: exp.select(exp.Star()).from_(exp.Table(this=ident(INSTANTS_TABLE))))
    return MultiQuery(defn, dialect, ts, leads, tree, layout, names, compiler.arrow_rows(ts, leads))
