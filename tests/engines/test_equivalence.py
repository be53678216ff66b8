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


DECAY = """
schema: 1
name: decay
version: 1
engagement:
  - {id: visits, event: page_view, points: 7.5, half_life: 1h}
  - {id: last_visit, event: page_view, points: 0.5, per: once, half_life: 1h}
qualify: {threshold: 1}
"""


@pytest.mark.parametrize(
    "engine_name",
    [
        "sqlite",
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ],
)
def test_an_event_thousands_of_half_lives_old_weighs_zero(engine_name: str) -> None:
    """10 months is 7,000 half-lives of an hour: 0.5^7000 is below the smallest double (PostgreSQL raises an
    underflow error on it); beyond 1,000 half-lives an event weighs exactly 0 on every engine."""
    import pyarrow as pa

    from leadgate.definition.loader import parse_definition
    from leadgate.engines import get_engine
    from leadgate.inputs.dataset import TS_TYPE, Dataset
    from tests.conftest import PG_URL
    from tests.strategies import BASE_T, HOUR

    defn = parse_definition(DECAY)
    ages = [300 * 24 * HOUR, 1000 * HOUR, 1000 * HOUR + 1, 1075 * HOUR, 2 * HOUR]
    events = pa.table({
        "lead_id": ["old", "edge", "past", "past", "new"],
        "event": ["page_view"] * len(ages),
        "ts": pa.array([round((BASE_T - a) * 1e6) for a in ages], pa.int64()).cast(TS_TYPE),
    })  # fmt: skip
    leads = pa.table({"lead_id": ["edge", "new", "old", "past"]})
    data = Dataset(leads=leads, events=events)
    expected = {s.lead_id: s for s in evaluate(defn, data, BASE_T)}
    assert expected["old"].engagement == expected["past"].engagement == 0.0
    assert expected["edge"].engagement == 8.0 * 0.5**1000 and expected["new"].engagement == 8.0 * 0.25
    with get_engine(engine_name, **({"url": PG_URL} if engine_name == "postgres" else {})) as engine:
        engine.load(prepare_tables(defn, data))
        got = engine.run(compile_definition(defn, dialect=engine.dialect, as_of=BASE_T)).to_scores()
    assert [s.lead_id for s in got] == sorted(expected)
    for g in got:
        assert not same_scores(g, expected[g.lead_id]), g.lead_id
