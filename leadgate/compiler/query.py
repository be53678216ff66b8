"""Definition → one SQL query (a sqlglot tree) scoring every lead as of an instant.

The query is a chain of CTEs, each adding columns to the one before:

    ev     events up to T, with epoch seconds ``__t`` and the properties the definition reads
    agg    one pass over ``ev`` grouped by lead: per event condition, the count in its window, and the
           decay sums (occurrence) or latest time (once) its rules need
    base   leads ⟕ accounts ⟕ agg: the traits the definition reads, counts defaulted to 0
    (pr, pv  the latest prediction of each model the definition reads: compiler/predictions.py)
    hits   fit rules matched (1/0)
    pts    points per rule: min_count gate, decay, cap
    grp    group cap adjustments
    sc     fit and engagement
    (acct  per account: summed engagement and engaged leads: compiler/accounts.py)
    tot    total (and the lead's account roll-up)
    dec    disqualify / require / qualification paths (1/0)
    final  the output columns (docs/semantics.md, "Output per lead")

Nothing here opens a connection: engines run ``CompiledQuery.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlglot import exp

from leadgate.compiler import accounts, dialects, predictions
from leadgate.compiler.conditions import EPS, Scope, at_least, condition, negate, predicate
from leadgate.compiler.sqlbuild import (
    case,
    clamp,
    col,
    div,
    flag,
    ident,
    mul,
    not_,
    num,
    or_,
    select_from,
    string,
    sub,
    total,
    truthy,
)
from leadgate.definition.model import (
    MAX_HALF_LIVES,
    Definition,
    EngagementRule,
    EventCond,
    FitRule,
    Predicate,
    field_key,
    walk,
)


@dataclass(frozen=True)
class TableNames:
    """Names of the input tables; ``schema.table`` is allowed."""

    leads: str = "leads"
    events: str = "events"
    accounts: str = "accounts"
    predictions: str = "predictions"


@dataclass(frozen=True)
class Layout:
    """Which output column holds what, for turning rows back into LeadScores."""

    rules: list[tuple[str, str, str]] = field(default_factory=list)  # (rule id, count column, points column)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (group name, adjustment column)
    disqualify: list[tuple[str, str]] = field(default_factory=list)  # (reason, 1 when it holds)
    require: list[tuple[str, str]] = field(default_factory=list)  # (reason, 1 when it FAILS)
    paths: list[tuple[str, str]] = field(default_factory=list)  # (path name, 1 when it holds)
    account: bool = False  # the account columns (compiler/accounts.py OUTPUT) are present
    predicted: list[tuple[str, str]] = field(default_factory=list)  # (model, probability column)


@dataclass(frozen=True)
class CompiledQuery:
    definition: Definition
    dialect: str
    as_of: float
    tree: exp.Select
    layout: Layout
    tables: TableNames
    text: str | None = None  # set when made from a QueryTemplate (the tree is then not kept)

    def sql(self, pretty: bool = False) -> str:
        if self.text is not None:
            return self.text
        return self.tree.sql(dialect=self.dialect, pretty=pretty)


def as_of_epoch(as_of: datetime | float | str | None) -> float:
    """Epoch seconds of an instant: a datetime or ISO-8601 text (naive means UTC), epoch seconds, or None
    for now."""
    if as_of is None:
        as_of = datetime.now(UTC)
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    if isinstance(as_of, (int, float)):
        return round(float(as_of) * 1_000_000) / 1_000_000  # instants have microsecond precision
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    delta = as_of - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros / 1_000_000


def table_ref(name: str) -> exp.Table:
    parts = name.split(".")
    t = exp.Table(this=ident(parts[-1]))
    if len(parts) >= 2:
        t.set("db", ident(parts[-2]))
    if len(parts) >= 3:
        t.set("catalog", ident(parts[-3]))
    return t


def _key(cond: EventCond) -> str:
    return cond.model_dump_json()


class _Compiler:
    def __init__(self, defn: Definition, dialect: str, as_of: float, tables: TableNames):
        self.d = defn
        self.dialect = dialects.check_dialect(dialect)
        self.T = as_of
        self.T_us = round(as_of * 1_000_000)
        #: Every literal that depends on T: ("at", offset in µs) or ("seconds", 0); see QueryTemplate.
        self.time_literals: set[tuple[str, int]] = set()
        self.tables = tables
        types = defn.field_types()
        keys = sorted(types)
        self.fields = {k: f"f{i}" for i, k in enumerate(k for k in keys if k[0] != "events")}
        self.props = {k[1]: f"p{i}" for i, k in enumerate(k for k in keys if k[0] == "events")}
        self.econds: dict[str, tuple[int, EventCond]] = {}
        for cond in defn.all_conditions():
            for node in walk(cond):
                if isinstance(node, EventCond) and _key(node) not in self.econds:
                    self.econds[_key(node)] = (len(self.econds), node)
        self.models = defn.models()
        self.weights: dict[tuple[int, float], str] = {}
        self.latest: dict[int, str] = {}
        for rule in defn.engagement:
            k = self.k(rule.match)
            h = defn.half_life(rule)
            if h and rule.per == "occurrence":
                self.weights.setdefault((k, h), f"w{k}_{len(self.weights)}")
            if h and rule.per == "once":
                self.latest[k] = f"l{k}"

    def k(self, cond: EventCond) -> int:
        return self.econds[_key(cond)][0]

    # -- events ---------------------------------------------------------------------------------------
    def at(self, micros: int) -> exp.Expression:
        """An instant as a literal of the dialect's timestamp type."""
        self.time_literals.add(("at", micros - self.T_us))
        return dialects.timestamp_literal(micros, self.dialect)

    def now_seconds(self) -> exp.Expression:
        """T in epoch seconds, for decay."""
        self.time_literals.add(("seconds", 0))
        return num(self.T)

    @property
    def needs_epoch(self) -> bool:
        return bool(self.weights or self.latest)

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
        where = exp.LTE(this=col("ts", "e"), expression=self.at(self.T_us))
        if names:
            where = exp.and_(exp.In(this=col("event", "e"), expressions=[string(n) for n in names]), where)
        else:
            where = exp.and_(exp.false(), where)
        return exp.select(*cols).from_(table_ref(self.tables.events).as_("e")).where(where)

    def match(self, cond: EventCond) -> exp.Expression:
        parts: list[exp.Expression] = []
        names = cond.events
        if len(names) == 1:
            parts.append(exp.EQ(this=col("event"), expression=string(names[0])))
        else:
            parts.append(exp.In(this=col("event"), expressions=[string(n) for n in names]))
        parts += [predicate(p, col(self.props[p.field]), self.dialect) for p in cond.where]
        if cond.within is not None:
            low = self.T_us - round(cond.within * 1_000_000)
            parts.append(exp.GT(this=col("ts"), expression=self.at(low)))
        return exp.and_(*parts) if len(parts) > 1 else parts[0]

    def agg(self) -> exp.Select:
        cols: list[exp.Expression] = [col("lead_id")]
        matches = {k: self.match(c) for k, c in self.econds.values()}
        for k, m in matches.items():
            cols.append(exp.alias_(exp.Sum(this=flag(m.copy())), f"n{k}", quoted=True))
        for (k, h), name in self.weights.items():
            w = self.decay(col("__t"), h)
            cols.append(exp.alias_(exp.Sum(this=case([(matches[k].copy(), w)], num(0))), name, quoted=True))
        for k, name in self.latest.items():
            cols.append(exp.alias_(exp.Max(this=case([(matches[k].copy(), col("__t"))], None)), name, quoted=True))
        return exp.select(*cols).from_(exp.Table(this=ident("ev"))).group_by(col("lead_id"))

    # -- leads ----------------------------------------------------------------------------------------
    def base(self) -> exp.Select:
        cols: list[exp.Expression] = [exp.alias_(col("lead_id", "l"), "lead_id", quoted=True)]
        if self.d.account is not None:
            cols.append(exp.alias_(col("account_id", "l"), "account_id", quoted=True))
        for (table, name), alias in self.fields.items():
            cols.append(exp.alias_(col(name, "l" if table == "leads" else "a"), alias, quoted=True))
        for k, _ in self.econds.values():
            cols.append(exp.alias_(exp.Coalesce(this=col(f"n{k}", "g"), expressions=[num(0)]), f"n{k}", quoted=True))
        for name in self.weights.values():
            cols.append(exp.alias_(exp.Coalesce(this=col(name, "g"), expressions=[num(0)]), name, quoted=True))
        for name in self.latest.values():
            cols.append(exp.alias_(col(name, "g"), name, quoted=True))
        for i, _ in enumerate(self.models):
            cols.append(exp.alias_(col(predictions.column(i), "v"), predictions.column(i), quoted=True))
        q = exp.select(*cols).from_(table_ref(self.tables.leads).as_("l"))
        if any(t == "accounts" for t, _ in self.fields):
            q = q.join(
                table_ref(self.tables.accounts).as_("a"),
                on=exp.EQ(this=col("account_id", "l"), expression=col("account_id", "a")),
                join_type="left",
            )
        if self.econds:
            q = q.join(
                exp.Table(this=ident("agg")).as_("g"),
                on=exp.EQ(this=col("lead_id", "l"), expression=col("lead_id", "g")),
                join_type="left",
            )
        if self.models:
            q = q.join(
                exp.Table(this=ident("pv")).as_("v"),
                on=exp.EQ(this=col("lead_id", "l"), expression=col("lead_id", "v")),
                join_type="left",
            )
        created = exp.LTE(this=col("created_at", "l"), expression=self.at(self.T_us))
        return q.where(or_([exp.Is(this=col("created_at", "l"), expression=exp.Null()), created]))

    def scope(self) -> Scope:
        def field_of(pred: Predicate) -> exp.Expression:
            return col(self.fields[field_key(pred)])

        def signal(rule_id: str) -> exp.Expression:
            rule = self.d.rule(rule_id)
            if isinstance(rule, FitRule):
                return truthy(col(f"c_{rule.id}"))
            return exp.GTE(this=col(f"n{self.k(rule.match)}"), expression=num(rule.min_count))

        return Scope(
            dialect=self.dialect,
            field=field_of,
            event_count=lambda c: col(f"n{self.k(c)}"),
            signal=signal,
            score=lambda name: col(name),
            account_qualified=lambda: col(accounts.QUALIFIED),
            predicted=lambda model: col(predictions.column(self.models.index(model))),
        )

    def raw_points(self, rule: EngagementRule) -> exp.Expression:
        k = self.k(rule.match)
        h = self.d.half_life(rule)
        pts = num(rule.points)
        if rule.per == "occurrence":
            return mul(pts, col(self.weights[(k, h)]) if h else col(f"n{k}"))
        if not h:
            return pts
        return mul(pts, self.decay(col(self.latest[k]), h))

    def decay(self, t: exp.Expression, h: float) -> exp.Expression:
        """0.5 ^ ((T - t) / h), and 0 beyond MAX_HALF_LIVES half-lives (docs/semantics.md, "Time")."""
        age = div(sub(self.now_seconds(), t), num(h))
        too_old = exp.GT(this=age, expression=num(MAX_HALF_LIVES))
        return case([(too_old, num(0))], exp.Pow(this=num(0.5), expression=age.copy()))

    def stages(self, layout: Layout) -> list[tuple[str, exp.Select]]:
        d, scope = self.d, self.scope()
        hits = [exp.alias_(flag(condition(r.when, scope)), f"c_{r.id}", quoted=True) for r in d.fit]
        pts: list[exp.Expression] = []
        for r in d.fit:
            pts.append(exp.alias_(case([(truthy(col(f"c_{r.id}")), num(r.points))], num(0)), f"s_{r.id}", quoted=True))
        for e in d.engagement:
            n = col(f"n{self.k(e.match)}")
            raw = self.raw_points(e)
            if e.cap is not None:
                raw = clamp(raw, e.cap)
            fired = exp.GTE(this=n, expression=num(e.min_count))
            pts.append(exp.alias_(case([(fired, raw)], num(0)), f"s_{e.id}", quoted=True))
        grp = []
        for g, spec in d.groups.items():
            members = [col(f"s_{r.id}") for r in d.rules if r.group == g]
            s = total(members)
            grp.append(exp.alias_(sub(clamp(s, spec.cap), s.copy()), f"g_{g}", quoted=True))
        fit_parts = [col(f"s_{r.id}") for r in d.fit] + [col(f"g_{g}") for g in d.groups if _kind(d, g) == "fit"]
        eng_parts = [col(f"s_{r.id}") for r in d.engagement]
        eng_parts += [col(f"g_{g}") for g in d.groups if _kind(d, g) == "engagement"]
        sc = [exp.alias_(total(fit_parts), "fit", quoted=True), exp.alias_(total(eng_parts), "engagement", quoted=True)]
        tot = [exp.alias_(exp.Add(this=col("fit"), expression=col("engagement")), "total", quoted=True)]
        totals = [("tot", select_from("sc", tot))]
        if d.account is not None:
            totals = accounts.account_stages(d.account, self.dialect)
        dec: list[exp.Expression] = []
        for i, h in enumerate(d.disqualify):
            dec.append(exp.alias_(flag(condition(h.when, scope)), f"dq{i}", quoted=True))
            layout.disqualify.append((h.reason, f"dq__{h.reason}"))
        for i, h in enumerate(d.require):
            dec.append(exp.alias_(flag(negate(condition(h.when, scope))), f"rq{i}", quoted=True))
            layout.require.append((h.reason, f"rq_failed__{h.reason}"))
        q = d.qualify
        if q.has_score_path:
            parts = []
            for name, bound in (("total", q.threshold), ("fit", q.min_fit), ("engagement", q.min_engagement)):
                if bound is not None:
                    parts.append(exp.GTE(this=col(name), expression=num(bound - EPS)))
            dec.append(exp.alias_(flag(exp.and_(*parts) if len(parts) > 1 else parts[0]), "qs", quoted=True))
            layout.paths.append(("score", "path__score"))
        for i, p in enumerate(q.paths):
            dec.append(exp.alias_(flag(condition(p.when, scope)), f"qp{i}", quoted=True))
            layout.paths.append((p.name, f"path__{p.name}"))
        product = [e for e in d.engagement if e.product]
        fired = [exp.GTE(this=col(f"n{self.k(e.match)}"), expression=num(e.min_count)) for e in product]
        dec.append(exp.alias_(flag(or_(fired)), "product_fired", quoted=True))
        return [
            ("hits", select_from("base", hits)),
            ("pts", select_from("hits", pts)),
            ("grp", select_from("pts", grp)),
            ("sc", select_from("grp", sc)),
            *totals,
            ("dec", select_from("tot", dec)),
        ]

    def final(self, layout: Layout) -> exp.Select:
        d = self.d
        blockers = [truthy(col(f"dq{i}")) for i in range(len(d.disqualify))]
        blockers += [truthy(col(f"rq{i}")) for i in range(len(d.require))]
        path_cols = (["qs"] if d.qualify.has_score_path else []) + [f"qp{i}" for i in range(len(d.qualify.paths))]
        qualified = exp.and_(not_(or_(blockers)), or_(truthy(col(c)) for c in path_cols))
        g, lv = d.grades, d.levels
        grade = case(
            [
                (exp.GTE(this=col("fit"), expression=num(v - EPS)), string(k))
                for k, v in (("A", g.A), ("B", g.B), ("C", g.C))
            ],
            string("D"),
        )
        level = case(
            [
                (exp.GTE(this=col("engagement"), expression=num(v - EPS)), num(i))
                for i, v in ((1, lv.l1), (2, lv.l2), (3, lv.l3))
            ],
            num(4),
        )
        basis = case([(at_least(col("fit"), col("engagement")), string("fit"))], string("intent"))
        motion = case([(truthy(col("product_fired")), string("product_led"))], string("sales_led"))
        cols: list[exp.Expression] = [
            col("lead_id"),
            col("fit"),
            col("engagement"),
            col("total"),
            exp.alias_(flag(qualified), "qualified", quoted=True),
            exp.alias_(grade, "grade", quoted=True),
            exp.alias_(level, "level", quoted=True),
            exp.alias_(basis, "basis", quoted=True),
            exp.alias_(motion, "motion", quoted=True),
        ]
        for r in d.fit:
            cols.append(exp.alias_(col(f"c_{r.id}"), f"count__{r.id}", quoted=True))
            cols.append(exp.alias_(col(f"s_{r.id}"), f"points__{r.id}", quoted=True))
            layout.rules.append((r.id, f"count__{r.id}", f"points__{r.id}"))
        for e in d.engagement:
            cols.append(exp.alias_(col(f"n{self.k(e.match)}"), f"count__{e.id}", quoted=True))
            cols.append(exp.alias_(col(f"s_{e.id}"), f"points__{e.id}", quoted=True))
            layout.rules.append((e.id, f"count__{e.id}", f"points__{e.id}"))
        for name in d.groups:
            cols.append(exp.alias_(col(f"g_{name}"), f"points__group__{name}", quoted=True))
            layout.groups.append((name, f"points__group__{name}"))
        if layout.account:
            cols += [col(name) for name in accounts.OUTPUT]
        for i, model in enumerate(self.models):
            cols.append(exp.alias_(col(predictions.column(i)), predictions.output_column(i), quoted=True))
            layout.predicted.append((model, predictions.output_column(i)))
        cols += [exp.alias_(col(f"dq{i}"), out, quoted=True) for i, (_, out) in enumerate(layout.disqualify)]
        cols += [exp.alias_(col(f"rq{i}"), out, quoted=True) for i, (_, out) in enumerate(layout.require)]
        cols += [exp.alias_(col(src), out, quoted=True) for src, (_, out) in zip(path_cols, layout.paths, strict=True)]
        return exp.select(*cols).from_(exp.Table(this=ident("dec"))).order_by(col("lead_id"))

    def build(self) -> tuple[exp.Select, Layout]:
        layout = Layout(account=self.d.account is not None)
        ctes: list[tuple[str, exp.Select]] = [("ev", self.ev())]
        if self.econds:
            ctes.append(("agg", self.agg()))
        if self.models:
            ctes += predictions.prediction_ctes(self.models, table_ref(self.tables.predictions), self.at(self.T_us))
        ctes.append(("base", self.base()))
        ctes += self.stages(layout)
        query = self.final(layout)
        for name, body in ctes:
            query = query.with_(ident(name), as_=body)
        return query, layout


#: The instant a template is compiled at: 2100-01-01T00:00:00.123457Z, whose literals appear nowhere else.
SENTINEL_US = 4_102_444_800_123_457


def _time_text(kind: str, offset: int, t_us: int, dialect: str) -> str:
    if kind == "seconds":
        return str(num(t_us / 1_000_000).sql(dialect=dialect))
    return str(dialects.timestamp_literal(t_us + offset, dialect).sql(dialect=dialect))


@dataclass(frozen=True)
class QueryTemplate:
    """A definition compiled once, for any instant: only the literals that depend on T change between
    instants, so they are substituted as text (real-time scoring runs this on every event)."""

    definition: Definition
    dialect: str
    text: str
    layout: Layout
    tables: TableNames
    time_literals: frozenset[tuple[str, int]]

    def at(self, as_of: datetime | float | str | None) -> CompiledQuery:
        t = as_of_epoch(as_of)
        t_us = round(t * 1_000_000)
        sql = self.text
        pairs = [
            (_time_text(k, o, SENTINEL_US, self.dialect), _time_text(k, o, t_us, self.dialect))
            for k, o in self.time_literals
        ]
        for old, new in sorted(pairs, key=lambda p: -len(p[0])):
            sql = sql.replace(old, new)
        if "2100-01-01" in sql or "4102444800" in sql:  # pragma: no cover - a sentinel escaped substitution
            raise AssertionError("query template: a time literal was not substituted")
        return CompiledQuery(
            definition=self.definition,
            dialect=self.dialect,
            as_of=t,
            tree=exp.select(),
            layout=self.layout,
            tables=self.tables,
            text=sql,
        )


def compile_template(defn: Definition, *, dialect: str, tables: TableNames | None = None) -> QueryTemplate:
    names = tables or TableNames()
    compiler = _Compiler(defn, dialect, SENTINEL_US / 1_000_000, names)
    tree, layout = compiler.build()
    return QueryTemplate(
        definition=defn,
        dialect=dialect,
        text=tree.sql(dialect=dialect),
        layout=layout,
        tables=names,
        time_literals=frozenset(compiler.time_literals),
    )


def compile_rule_totals(
    defn: Definition,
    *,
    dialect: str = "duckdb",
    as_of: datetime | float | str | None = None,
    tables: TableNames | None = None,
) -> CompiledQuery:
    """One row: for each engagement rule (column ``r<i>``, in definition order), how many events up to T it
    counts over the whole events table, whichever lead they name.  The scoring query counts the same per
    lead, so the two agree unless some counted event names no lead (``compiler/checks.py``): a scan without
    a join or a grouping, far cheaper than looking for such events outright."""
    t = as_of_epoch(as_of)
    names = tables or TableNames()
    c = _Compiler(defn, dialect, t, names)
    sums = [
        exp.alias_(exp.Sum(this=flag(c.match(rule.match))), f"r{i}", quoted=True)
        for i, rule in enumerate(defn.engagement)
    ]
    tree = exp.select(*(sums or [exp.alias_(num(0), "none", quoted=True)])).from_(c.ev().subquery("ev"))
    return CompiledQuery(definition=defn, dialect=dialect, as_of=t, tree=tree, layout=Layout(), tables=names)


def _kind(defn: Definition, group: str) -> str:
    return "fit" if any(r.group == group for r in defn.fit) else "engagement"


def compile_definition(
    defn: Definition,
    *,
    dialect: str = "duckdb",
    as_of: datetime | float | str | None = None,
    tables: TableNames | None = None,
) -> CompiledQuery:
    """Compile ``defn`` into one query scoring every lead as of ``as_of`` (default: now)."""
    t = as_of_epoch(as_of)
    names = tables or TableNames()
    tree, layout = _Compiler(defn, dialect, t, names).build()
    return CompiledQuery(definition=defn, dialect=dialect, as_of=t, tree=tree, layout=layout, tables=names)
