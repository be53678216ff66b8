"""Many instants in one query equal one query per instant: ``compile_snapshots`` and ``compile_probes``
against ``compile_definition``, for random definitions and data (decay, windows, account roll-ups and
model predictions included), on DuckDB and SQLite."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.compiler import compile_definition
from leadgate.compiler.snapshots import INSTANT_COLUMN, INSTANTS_TABLE, compile_probes, compile_snapshots
from leadgate.engines import Engine, prepare_tables
from leadgate.engines.duckdb import DuckDBEngine
from leadgate.engines.sqlite import SQLiteEngine
from leadgate.errors import LeadgateError
from leadgate.result import LeadScore, same_scores
from leadgate.scoretable import ScoreTable
from tests.strategies import BASE_T, DAY, HOUR, datasets, definitions

#: Instants around the data: window edges of every strategy window are hit from several of them.
INSTANTS = sorted({BASE_T + d for d in (-30 * DAY - 1, -7 * DAY, -DAY, -HOUR, -1e-6, 0.0, 0.5, 1.0, HOUR, DAY)})
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def single(engine: Engine, defn: Any, t: float) -> list[LeadScore]:
    return engine.run(compile_definition(defn, dialect=engine.dialect, as_of=t)).to_scores()


def split(table: pa.Table, query: Any, index: int) -> list[LeadScore]:
    """The rows of one instant, decoded as the single-instant query's rows are."""
    if table.num_columns == 0:
        return []
    rows = table.filter(pc.equal(table.column(INSTANT_COLUMN), index)).drop_columns([INSTANT_COLUMN])
    return ScoreTable(rows, query.at(index)).to_scores()


def assert_same(got: list[LeadScore], expected: list[LeadScore], where: str) -> None:
    assert [s.lead_id for s in got] == [s.lead_id for s in expected], where
    for g, e in zip(got, expected, strict=True):
        diffs = same_scores(g, e)
        assert not diffs, f"{where}: lead {e.lead_id!r}: {diffs}"


def check_snapshots(engine: Engine, draw: Any) -> None:
    defn = draw(definitions())
    data = draw(datasets(defn))
    instants = sorted(draw(st.lists(st.sampled_from(INSTANTS), min_size=1, max_size=4, unique=True)))
    engine.load(prepare_tables(defn, data))
    query = compile_snapshots(defn, instants, dialect=engine.dialect)
    table = engine.fetch_arrow(query.sql())
    for i, t in enumerate(instants):
        assert_same(split(table, query, i), single(engine, defn, t), f"{engine.dialect} at {t}")


def check_probes(engine: Engine, draw: Any) -> None:
    defn = draw(definitions())
    data = draw(datasets(defn))
    ids = data.leads.column("lead_id").to_pylist()
    probes = draw(
        st.lists(st.tuples(st.sampled_from([*ids, "nobody"]), st.sampled_from(INSTANTS)), min_size=1, max_size=8)
    )
    engine.load(prepare_tables(defn, data))
    if defn.account is not None:  # a lead's account roll-up needs its account's other leads at that instant
        with pytest.raises(LeadgateError, match="cannot be probed alone"):
            compile_probes(defn, probes, dialect=engine.dialect)
        return
    query = compile_probes(defn, probes, dialect=engine.dialect)
    assert query.instants_table is not None
    engine.load_table(INSTANTS_TABLE, query.instants_table)
    table = engine.fetch_arrow(query.sql())
    for i, (lead, t) in enumerate(probes):
        expected = [s for s in single(engine, defn, t) if s.lead_id == lead]
        assert_same(split(table, query, i), expected, f"{engine.dialect}: {lead!r} at {t}")


@PROPERTY
@given(st.data())
def test_snapshots_equal_single_instant_duckdb(data: st.DataObject) -> None:
    with DuckDBEngine() as engine:
        check_snapshots(engine, data.draw)


@PROPERTY
@given(st.data())
def test_snapshots_equal_single_instant_sqlite(data: st.DataObject) -> None:
    with SQLiteEngine() as engine:
        check_snapshots(engine, data.draw)


@PROPERTY
@given(st.data())
def test_probes_equal_single_instant_duckdb(data: st.DataObject) -> None:
    with DuckDBEngine() as engine:
        check_probes(engine, data.draw)


@PROPERTY
@given(st.data())
def test_probes_equal_single_instant_sqlite(data: st.DataObject) -> None:
    with SQLiteEngine() as engine:
        check_probes(engine, data.draw)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_snapshots_and_probes_postgres(postgres_engine: Engine, data: st.DataObject) -> None:
    check_snapshots(postgres_engine, data.draw)
    check_probes(postgres_engine, data.draw)


def test_instants_must_be_given() -> None:
    from leadgate.definition.loader import parse_definition

    defn = parse_definition("schema: 1\nname: x\nversion: 1\nqualify: {threshold: 1}\n")
    with pytest.raises(LeadgateError, match="at least one instant"):
        compile_snapshots(defn, [])
