"""SQL pieces every report shares, written once so they mean the same on SQLite and PostgreSQL.

- ``week_start(t)``: the Monday (UTC) of ``t``'s ISO week as ``YYYY-MM-DD`` text.
- ``seconds_between(later, earlier)``: elapsed seconds as a float.
- ``not_merge(sc)``: a stage change that is not the bookkeeping row a merge writes (the merged lead's own
  history moves with it, so counting the merge row too would count one move twice).
- ``slice_key``: the expression a report groups by for ``--by`` (first touch through ``lead_attribution``).
- ``percentiles``: median and p90 with linear interpolation between the two nearest values (the same as
  PostgreSQL's ``percentile_cont``): the database ranks the values per slice with window functions and
  returns at most the two neighbours of each percentile; the interpolation is done here.  SQLite has no
  percentile aggregate, so this is the portable way that still sorts in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Float,
    FromClause,
    String,
    Subquery,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from leadgate.reports.model import ALL, NONE
from leadgate.store.models import DefinitionVersion, Lead, StageChange
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, Opportunity

leads = Lead.__table__
stage_changes = StageChange.__table__
definition_versions = DefinitionVersion.__table__
attribution = LeadAttribution.__table__
assignments = Assignment.__table__
opportunities = Opportunity.__table__

#: The percentiles every report gives, as exact fractions.
PERCENTILES = {"median": Fraction(1, 2), "p90": Fraction(9, 10)}


class week_start(FunctionElement[str]):
    type = String()
    name = "week_start"
    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    # the day part of the stored text: SQLite's own parsing rounds 23:59:59.9995 up to the next day
    return f"date(substr({compiler.process(arg, **kw)}, 1, 10), 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"to_char(date_trunc('week', {compiler.process(arg, **kw)}), 'YYYY-MM-DD')"


class seconds_between(FunctionElement[float]):
    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(round((julianday({later}) - julianday({earlier})) * 86400000.0) / 1000.0)"  # to the millisecond


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


def not_merge(sc: FromClause) -> ColumnElement[bool]:
    return func.coalesce(sc.c.cause, "") != "merge"


def label(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A slice label: the value, or ``(none)`` when it is NULL or empty."""
    return func.coalesce(func.nullif(cast(value, String), ""), NONE)


#: Slices that are properties of an MQL (the cohort of leads cannot be cut by them).
MQL_SLICES = ("mql_type", "mql_basis", "mql_motion", "definition_version")


@dataclass(frozen=True)
class Slice:
    """What a cohort row offers to slice by: its lead, its time, and (for cohorts tied to an MQL) the MQL's
    type, basis, motion and definition version by slice name; ``mql`` None: the cohort has no MQL."""

    lead_id: ColumnElement[str]
    at: ColumnElement[Any]
    mql: Mapping[str, ColumnElement[Any]] | None = None


def mql_columns(source: FromClause) -> dict[str, ColumnElement[Any]]:
    """The MQL slices of a from-clause with ``stage_changes``' columns (``mql_type`` ... ``definition_version_id``)."""
    return {
        "mql_type": source.c.mql_type,
        "mql_basis": source.c.mql_basis,
        "mql_motion": source.c.mql_motion,
        "definition_version": source.c.definition_version_id,
    }


def slice_key(by: str | None, on: Slice) -> ColumnElement[str] | None:
    """The label expression for ``by`` (None: not sliced).  First-touch values need ``with_attribution``."""
    if by is None:
        return None
    if by == "week":
        return week_start(on.at)
    if by in ("channel", "source", "campaign"):
        return label(attribution.c[by])
    if by in MQL_SLICES and on.mql is not None:
        return label(on.mql[by])
    raise ValueError(f"this cohort cannot be sliced by {by}")  # callers check ``sliceable`` first


def sliceable(by: str | None, on: Slice) -> bool:
    return on.mql is not None or by not in MQL_SLICES


def with_attribution(by: str | None, source: FromClause, lead_id: ColumnElement[str]) -> FromClause:
    """``source`` joined to the first touch of ``lead_id`` when the slice needs it (a lead without one
    keeps its row and is labelled ``(none)``)."""
    if by in ("channel", "source", "campaign"):
        return source.outerjoin(attribution, attribution.c.lead_id == lead_id)
    return source


def keyed(key: ColumnElement[str] | None, *columns: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The select list of a grouped query: the slice key as ``k`` (a constant for the total) and the rest."""
    return [(literal_column(f"'{ALL}'", String) if key is None else key).label("k"), *columns]


def grouped(conn: Connection, stmt: Any, key: ColumnElement[str] | None) -> dict[str, dict[str, Any]]:
    """Run a query built with ``keyed``; rows by slice label.  A total query is not grouped, so it always
    returns its one row (counts of zero rather than nothing)."""
    if key is not None:
        stmt = stmt.group_by(key)
    return {str(row.k): dict(row._mapping) for row in conn.execute(stmt)}


def percentiles(conn: Connection, values: Subquery) -> dict[str, dict[str, float | None]]:
    """Median and p90 of ``values.c.v`` per ``values.c.k`` (rows with a NULL value are ignored)."""
    present = select(values.c.k, values.c.v).where(values.c.v.is_not(None)).subquery()
    ranked = select(
        present.c.k,
        present.c.v,
        (func.row_number().over(partition_by=present.c.k, order_by=present.c.v) - 1).label("i"),
        func.count().over(partition_by=present.c.k).label("n"),
    ).subquery()
    wanted = []
    for p in PERCENTILES.values():
        h = (ranked.c.n - 1) * p.numerator
        lo = h // p.denominator
        wanted += [ranked.c.i == lo, ranked.c.i == lo + case((h % p.denominator > 0, 1), else_=0)]
    stmt = select(ranked.c.k, ranked.c.i, ranked.c.n, ranked.c.v).where(or_(*wanted))
    picked: dict[str, tuple[int, dict[int, float]]] = {}
    for row in conn.execute(stmt):
        picked.setdefault(str(row.k), (int(row.n), {}))[1][int(row.i)] = float(row.v)
    return {k: interpolate(n, at) for k, (n, at) in picked.items()}


def interpolate(n: int, at: dict[int, float]) -> dict[str, float | None]:
    """Each percentile from the values at the ranks it falls between (0-based ranks of ``n`` sorted values)."""
    out: dict[str, float | None] = {}
    for name, p in PERCENTILES.items():
        h = (n - 1) * p
        lo = h.numerator // h.denominator
        frac = h - lo
        out[name] = at[lo] if frac == 0 else at[lo] + float(frac) * (at[lo + 1] - at[lo])
    return out


def definition_labels(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Labels ``name vVERSION`` for definition version ids (as slice keys), and a sort order by id."""
    wanted = [int(i) for i in ids if i.isdigit()]
    if not wanted:
        return {}
    rows = conn.execute(
        select(definition_versions.c.id, definition_versions.c.name, definition_versions.c.version).where(
            definition_versions.c.id.in_(wanted)
        )
    )
    return {str(r.id): f"{r.name} v{r.version}" for r in rows}


def typed_lead(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``lead()`` of a timestamp keeps its type (so SQLite hands back the same text format it compares)."""
    return func.lead(column, type_=DateTime())
