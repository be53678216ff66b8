"""The shared SQL pieces mean the same on SQLite and PostgreSQL: percentiles (checked against Python's
``statistics.quantiles`` and, on PostgreSQL, against ``percentile_cont``), ISO week starts and durations."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, Engine, Float, MetaData, String, Table, delete, insert, select, text

from leadgate.reports import sql
from leadgate.store import db

meta = MetaData()
values = Table("report_values", meta, Column("k", String(16)), Column("v", Float), Column("at", DateTime))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = db.connect(store_url)
    meta.create_all(engine)
    yield engine
    engine.dispose()


def reference(data: list[float]) -> dict[str, float]:
    """Linear interpolation between closest ranks, as statistics.quantiles(method="inclusive") computes it."""
    if len(data) == 1:
        return {"median": data[0], "p90": data[0]}
    deciles = statistics.quantiles(data, n=10, method="inclusive")
    return {"median": statistics.median(data), "p90": deciles[8]}


samples = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 3)), min_size=1),
    min_size=1,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(samples)
def test_percentiles_match_linear_interpolation(engine: Engine, data: dict[str, list[float]]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(values))
        conn.execute(insert(values), [{"k": k, "v": v} for k, vs in data.items() for v in vs])
        conn.execute(insert(values), [{"k": "a", "v": None}])  # ignored
    with db.snapshot(engine) as conn:
        got = sql.percentiles(conn, select(values.c.k, values.c.v).subquery())
        if engine.dialect.name == "postgresql":
            cont = conn.execute(
                text(
                    "SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
                    "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM report_values WHERE v IS NOT NULL GROUP BY k"
                )
            )
            for k, median, p90 in cont:
                assert got[k]["median"] == pytest.approx(median, abs=1e-6)
                assert got[k]["p90"] == pytest.approx(p90, abs=1e-6)
    assert set(got) == set(data)
    for k, vs in data.items():
        want = reference(vs)
        assert got[k]["median"] == pytest.approx(want["median"], abs=1e-6)
        assert got[k]["p90"] == pytest.approx(want["p90"], abs=1e-6)


def test_week_start_is_the_iso_monday(engine: Engine) -> None:
    instants = {
        datetime(2026, 3, 1, 23, 59, 59, 999999): "2026-02-23",  # a Sunday belongs to the week before
        datetime(2026, 3, 2): "2026-03-02",  # Monday midnight starts its week
        datetime(2026, 3, 4, 12): "2026-03-02",
        datetime(2026, 1, 1, 8): "2025-12-29",  # across the year
    }
    with engine.begin() as conn:
        conn.execute(insert(values), [{"k": label, "at": at} for at, label in instants.items()])
        got = conn.execute(select(values.c.k, sql.week_start(values.c.at))).all()
    assert [week for _k, week in got] == [k for k, _week in got]


def test_seconds_between(engine: Engine) -> None:
    start = datetime(2026, 3, 1, 23, 0)
    with engine.begin() as conn:
        conn.execute(insert(values), [{"k": "x", "at": start + timedelta(days=2, seconds=3, milliseconds=250)}])
        (seconds,) = conn.execute(select(sql.seconds_between(values.c.at, start))).one()
    assert seconds == pytest.approx(2 * 86400 + 3.25)
