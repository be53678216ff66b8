"""The native Parquet paths (DuckDB, Spark) give exactly what the general (Arrow, row-reporting) path
gives, and step aside when a file needs conversion or has bad rows, so those rows are still reported."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadgate
from leadgate.definition import parse_definition
from leadgate.engines import get_engine
from leadgate.engines.duckdb import DuckDBEngine
from leadgate.generate import generate
from tests.conftest import EXAMPLES

AS_OF = "2026-11-01T00:00:00Z"


@pytest.fixture(scope="module")
def parquet_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pq")
    generate(out, leads=1500, seed=4, fmt="parquet")
    leads = pq.read_table(out / "leads.parquet")
    odd = pa.array(["Ann@Uni.AC.UK", "no-at-sign", "two@@x.io", "x@y@z.com", None])
    emails = pa.concat_arrays([odd, leads.column("email").combine_chunks().slice(len(odd))])
    pq.write_table(leads.set_column(1, "email", emails), out / "leads.parquet")
    return out


def files(d: Path) -> dict[str, Path]:
    return {"leads": d / "leads.parquet", "events": d / "events.parquet", "accounts": d / "accounts.parquet"}


@pytest.mark.parametrize("example", ["classic.yaml", "negative_factors.yaml", "b2b_saas.yaml"])
def test_native_parquet_equals_general_path(parquet_demo: Path, example: str) -> None:
    defn = leadgate.load_definition(EXAMPLES / example)
    f = files(parquet_demo)
    with DuckDBEngine() as engine:
        assert engine.load_files(defn, f["leads"], f["events"], f["accounts"])
    native = leadgate.score(defn, **f, as_of=AS_OF, engine="duckdb")
    data = leadgate.read_inputs(defn, **f)
    general = leadgate.score(defn, data=data, as_of=AS_OF, engine="duckdb")
    assert native.scores == general.scores
    assert native.mql_ids() == general.mql_ids()


@pytest.mark.spark
def test_spark_native_parquet_equals_general_path(parquet_demo: Path, spark_engine: object) -> None:
    defn = leadgate.load_definition(EXAMPLES / "negative_factors.yaml")
    f = files(parquet_demo)
    assert spark_engine.load_files(defn, f["leads"], f["events"], f["accounts"])  # type: ignore[attr-defined]
    native = leadgate.score(defn, **f, as_of=AS_OF, engine="spark")
    general = leadgate.score(defn, data=leadgate.read_inputs(defn, **f), as_of=AS_OF, engine="duckdb")
    assert native.scores == general.scores


def test_bad_rows_fall_back_to_the_reporting_reader(parquet_demo: Path, tmp_path: Path) -> None:
    events = pq.read_table(parquet_demo / "events.parquet")
    ids = events.column("lead_id").to_pylist()
    ids[3] = None
    pq.write_table(events.set_column(0, "lead_id", pa.array(ids, pa.string())), tmp_path / "events.parquet")
    defn = leadgate.load_definition(EXAMPLES / "classic.yaml")
    f = {**files(parquet_demo), "events": tmp_path / "events.parquet"}
    with DuckDBEngine() as engine:
        assert not engine.load_files(defn, f["leads"], f["events"], f["accounts"])
    run = leadgate.score(defn, **f, as_of=AS_OF, engine="duckdb")
    assert [(r.row, r.field) for r in run.rejected] == [(4, "lead_id")]


def _predictions(demo: Path, out: Path, probability: list[float]) -> Path:
    ids = pq.read_table(demo / "leads.parquet").column("lead_id").to_pylist()[: len(probability)]
    at = pa.array([1_761_000_000_000_000 + i for i in range(len(ids))], pa.int64()).cast(pa.timestamp("us"))
    table = pa.table({"lead_id": ids, "model": ["sql"] * len(ids), "probability": probability, "scored_at": at})
    pq.write_table(table, out)
    return out


PREDICTIVE = """schema: 1
name: predictive
version: 1
engagement: [{id: v, event: page_view, points: 1}]
account: {threshold: 5}
qualify:
  paths:
    - {name: likely, when: {predicted: sql, gte: 0.6}}
    - {name: abm, when: {account_qualified: true}}
"""


def test_native_parquet_reads_predictions_as_the_general_path_does(parquet_demo: Path, tmp_path: Path) -> None:
    defn = parse_definition(PREDICTIVE)
    f = {**files(parquet_demo), "predictions": _predictions(parquet_demo, tmp_path / "p.parquet", [0.1, 0.6, 0.9])}
    with DuckDBEngine() as engine:
        assert engine.load_files(defn, f["leads"], f["events"], f["accounts"], f["predictions"])
    native = leadgate.score(defn, **f, as_of=AS_OF, engine="duckdb")
    general = leadgate.score(defn, data=leadgate.read_inputs(defn, **f), as_of=AS_OF, engine="duckdb")
    assert native.scores == general.scores
    assert sum(s.qualified_by[:1] == ["likely"] for s in native.scores) == 2
    without = leadgate.score(defn, **files(parquet_demo), as_of=AS_OF, engine="duckdb")  # an empty predictions view
    assert not any("likely" in s.qualified_by for s in without.scores)
    assert [s.account for s in without.scores] == [s.account for s in native.scores]


@pytest.mark.parametrize("bad", [1.2, float("nan")])
def test_a_probability_out_of_bounds_falls_back_and_is_reported(parquet_demo: Path, tmp_path: Path, bad: float) -> None:
    defn = parse_definition(PREDICTIVE)
    f = {**files(parquet_demo), "predictions": _predictions(parquet_demo, tmp_path / "p.parquet", [0.1, bad])}
    with DuckDBEngine() as engine:
        assert not engine.load_files(defn, f["leads"], f["events"], f["accounts"], f["predictions"])
    run = leadgate.score(defn, **f, as_of=AS_OF, engine="duckdb")
    assert [(r.row, r.field) for r in run.rejected] == [(2, "probability")]


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_an_infinite_number_falls_back_and_is_reported(
    parquet_demo: Path, tmp_path: Path, bad: float, engine: str
) -> None:
    """The general path refuses a number that is not finite; the native path checks for one and steps aside."""
    accounts = pq.read_table(parquet_demo / "accounts.parquet")
    employees = [float(e) for e in accounts.column("employees").to_pylist()]
    employees[2] = bad
    i = accounts.schema.get_field_index("employees")
    pq.write_table(accounts.set_column(i, "employees", pa.array(employees)), tmp_path / "accounts.parquet")
    defn = leadgate.load_definition(EXAMPLES / "classic.yaml")
    f = {**files(parquet_demo), "accounts": tmp_path / "accounts.parquet"}
    with get_engine(engine) as eng:
        assert not eng.load_files(defn, f["leads"], f["events"], f["accounts"])
    run = leadgate.score(defn, **f, as_of=AS_OF, engine=engine)
    assert [(r.row, r.field, r.message) for r in run.rejected] == [
        (3, "employees", f"expected a finite number, found {bad}")
    ]
    clean = {**f, "accounts": tmp_path / "clean.parquet"}
    employees[2] = 120.0
    pq.write_table(accounts.set_column(i, "employees", pa.array(employees)), clean["accounts"])
    with get_engine(engine) as eng:
        assert eng.load_files(defn, clean["leads"], clean["events"], clean["accounts"])


def test_a_column_named_twice_is_reported_by_the_reader(parquet_demo: Path, tmp_path: Path) -> None:
    accounts = pq.read_table(parquet_demo / "accounts.parquet")
    twice = accounts.append_column("employees", accounts.column("employees"))
    pq.write_table(twice, tmp_path / "accounts.parquet")
    defn = leadgate.load_definition(EXAMPLES / "classic.yaml")
    f = {**files(parquet_demo), "accounts": tmp_path / "accounts.parquet"}
    with pytest.raises(leadgate.InputError, match="the column 'employees' appears twice"):
        leadgate.score(defn, **f, as_of=AS_OF, engine="duckdb")
