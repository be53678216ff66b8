"""Change points equal one query per snapshot: ``compile_changes`` expanded (each lead's row at its latest
change point at or before a snapshot) against ``compile_definition`` at every snapshot, for random
definitions without decay and random data, on DuckDB and SQLite."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.compiler.changes import compile_changes, supports
from leadgate.compiler.snapshots import INSTANT_COLUMN
from leadgate.definition.loader import parse_definition
from leadgate.engines import Engine, prepare_tables
from leadgate.engines.duckdb import DuckDBEngine
from leadgate.engines.sqlite import SQLiteEngine
from leadgate.errors import LeadgateError
from leadgate.scoretable import ScoreTable
from tests.compiler.test_snapshots import INSTANTS, assert_same, single
from tests.strategies import datasets, definition_dicts

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plain(cond: Any) -> Any:
    """A condition with model and account terms replaced by a trait test."""
    if isinstance(cond, dict):
        if "predicted" in cond or "account_qualified" in cond or cond.get("score") == "account_engagement":
            return {"trait": "title", "exists": True}
        return {k: _plain(v) for k, v in cond.items()}
    if isinstance(cond, list):
        return [_plain(c) for c in cond]
    return cond


def changes_only(d: dict[str, Any]) -> dict[str, Any]:
    """A generated definition made one whose scores change only at a lead's own events and creation."""
    d.pop("decay", None)
    d.pop("account", None)
    for rule in d["engagement"]:
        rule["half_life"] = "none"
    return _plain(d)  # type: ignore[no-any-return]


def expand(table: pa.Table, index: int) -> pa.Table:
    """Each lead's row at its latest change point at or before snapshot ``index``."""
    if table.num_columns == 0:
        return table
    latest: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        if row[INSTANT_COLUMN] <= index:
            prior = latest.get(row["lead_id"])
            if prior is None or row[INSTANT_COLUMN] > prior[INSTANT_COLUMN]:
                latest[row["lead_id"]] = row
    rows = [{k: v for k, v in r.items() if k != INSTANT_COLUMN} for r in latest.values()]
    return pa.Table.from_pylist(rows) if rows else table.schema.empty_table().drop_columns([INSTANT_COLUMN])


def check(engine: Engine, draw: Any) -> None:
    from leadgate.definition.model import Definition

    defn = Definition.model_validate(changes_only(draw(definition_dicts())))
    assert supports(defn)
    data = draw(datasets(defn))
    instants = sorted(draw(st.lists(st.sampled_from(INSTANTS), min_size=1, max_size=4, unique=True)))
    engine.load(prepare_tables(defn, data))
    query = compile_changes(defn, instants, dialect=engine.dialect)
    table = engine.fetch_arrow(query.sql())
    if table.num_columns:  # one row per lead and change point
        keys = list(zip(table.column("lead_id").to_pylist(), table.column(INSTANT_COLUMN).to_pylist(), strict=True))
        assert len(keys) == len(set(keys))
    for i, t in enumerate(instants):
        rows = expand(table, i)
        got = ScoreTable(rows, query.at(i)).to_scores() if rows.num_rows else []
        assert_same(got, single(engine, defn, t), f"{engine.dialect} at {t}")


@PROPERTY
@given(st.data())
def test_change_points_equal_every_snapshot_duckdb(data: st.DataObject) -> None:
    with DuckDBEngine() as engine:
        check(engine, data.draw)


@PROPERTY
@given(st.data())
def test_change_points_equal_every_snapshot_sqlite(data: st.DataObject) -> None:
    with SQLiteEngine() as engine:
        check(engine, data.draw)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_change_points_postgres(postgres_engine: Engine, data: st.DataObject) -> None:
    check(postgres_engine, data.draw)


@given(st.data())
@settings(max_examples=30, deadline=None)
def test_supports_exactly_what_changes_only_at_a_leads_own_instants(data: st.DataObject) -> None:
    from leadgate.definition.model import Definition

    defn = Definition.model_validate(data.draw(definition_dicts()))
    decays = any(defn.half_life(r) for r in defn.engagement)
    assert supports(defn) is (not decays and defn.account is None and not defn.models())


def test_decay_and_disorder_are_refused() -> None:
    decaying = parse_definition(
        "schema: 1\nname: x\nversion: 1\ndecay: {half_life: 7d}\n"
        "engagement: [{id: a, event: e, points: 1}]\nqualify: {threshold: 1}\n"
    )
    with pytest.raises(LeadgateError, match="decay"):
        compile_changes(decaying, [1.0, 2.0])
    plain = parse_definition("schema: 1\nname: x\nversion: 1\nqualify: {threshold: 1}\n")
    with pytest.raises(LeadgateError, match="ascending"):
        compile_changes(plain, [2.0, 1.0])
