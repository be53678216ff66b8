"""Every engine equals the reference evaluator: property-based (hypothesis) over generated definitions,
leads, accounts and events, including hostile strings.  SQLite and DuckDB run in the default suite;
PostgreSQL and Spark in their marked suites (CI runs all four)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.compiler import compile_definition
from leadgate.engines import Engine, prepare_tables
from leadgate.reference import evaluate
from leadgate.result import same_scores
from tests.strategies import as_ofs, datasets, definitions


def check_engine(engine: Engine, draw: Any) -> None:
    defn = draw(definitions())
    data = draw(datasets(defn))
    as_of = draw(as_ofs())
    expected = evaluate(defn, data, as_of)
    engine.load(prepare_tables(defn, data))
    got = engine.run(compile_definition(defn, dialect=engine.dialect, as_of=as_of))
    assert [s.lead_id for s in got] == [s.lead_id for s in expected]
    for g, e in zip(got, expected, strict=True):
        diffs = same_scores(g, e)
        assert not diffs, f"{engine.dialect} differs from the reference for lead {e.lead_id!r}: {diffs}"


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.data())
def test_sqlite_equals_reference(data: st.DataObject) -> None:
    from leadgate.engines.sqlite import SQLiteEngine

    with SQLiteEngine() as engine:
        check_engine(engine, data.draw)


@FAST
@given(st.data())
def test_duckdb_equals_reference(data: st.DataObject) -> None:
    from leadgate.engines.duckdb import DuckDBEngine

    with DuckDBEngine() as engine:
        check_engine(engine, data.draw)


@pytest.mark.postgres
@SLOW
@given(st.data())
def test_postgres_equals_reference(postgres_engine: Engine, data: st.DataObject) -> None:
    check_engine(postgres_engine, data.draw)


@pytest.mark.spark
@SLOW
@given(st.data())
def test_spark_equals_reference(spark_engine: Engine, data: st.DataObject) -> None:
    check_engine(spark_engine, data.draw)
